"""The personal skincare shop: the store's catalogue, 0-100 concern scores from the analysis
measurements, the matcher that ranks the shelf for one person, change since the last visit, and the
take-home report. Pure code, with one exception: `catalogue.load_catalogue` reads the catalogue file and
checks that its product images exist, because validating a catalogue means checking those files (the same
rule for a file at start-up and for an upload). Everything else is handed in by the caller
(edge/api/shop_state.py): the concern table's data, the report template's text; writing the catalogue is
the caller's too. No HTTP, no database."""
