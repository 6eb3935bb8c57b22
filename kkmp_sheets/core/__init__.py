"""The pure core: the workbook contract, Indonesian values, parsing, validation, figures, zones
and the output tables. Rows in, values out: no config, clock, network or files."""
