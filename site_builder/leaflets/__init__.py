"""Printable leaflets: options, print HTML and QR codes, PDF layout and its worker processes."""
