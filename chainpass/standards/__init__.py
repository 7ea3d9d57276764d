"""The standards chainpass speaks, as the standards define them, with no chain in sight:
GS1 keys and Digital Links (:mod:`~chainpass.standards.gs1`), EPCIS 2.0 event hash ids and
the CBV vocabulary (:mod:`~chainpass.standards.epcis`), and QR codes
(:mod:`~chainpass.standards.qr`)."""
