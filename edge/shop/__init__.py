"""The personal skincare shop: the store's catalogue, 0-100 concern scores from the analysis
measurements, the matcher that ranks the shelf for one person, change since the last visit, and the
take-home report. Pure code but for reading and writing the catalogue file: no HTTP, no database."""
