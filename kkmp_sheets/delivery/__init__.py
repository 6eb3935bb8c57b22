"""Getting words to people: digest rendering from report_templates/, mail, the delivery ledger."""
