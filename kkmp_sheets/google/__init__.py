"""Everything that talks to Google: client, quota and retries, Drive listing, spreadsheet IDs,
the Sheets source of cooperative workbooks and the status-spreadsheet sink."""
