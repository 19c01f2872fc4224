"""Official letters and forms (发文): templates, the PDF and DOCX renderers, the
outgoing-letter register. Nothing here imports reportlab or python-docx at import
time; only the functions that render do, so `svc --help` stays fast."""
