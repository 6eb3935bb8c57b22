"""The local status workbook (.xlsx) and the sink interface every output implements."""
