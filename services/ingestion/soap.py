"""The SOAP envelopes a Salesforce Outbound Message listener answers with."""

from xml.sax.saxutils import escape

ENVELOPE_NS = "http://schemas.xmlsoap.org/soap/envelope/"
OUTBOUND_NS = "http://soap.sforce.com/2005/09/outbound"
CONTENT_TYPE = "text/xml; charset=utf-8"

ACK = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    f'<soapenv:Envelope xmlns:soapenv="{ENVELOPE_NS}"><soapenv:Body>'
    f'<notificationsResponse xmlns="{OUTBOUND_NS}"><Ack>true</Ack></notificationsResponse>'
    "</soapenv:Body></soapenv:Envelope>"
)
"""Salesforce stops retrying a message only once it reads this acknowledgement."""


def fault(server_side: bool, message: str) -> str:
    """A SOAP fault: Salesforce keeps the message queued and retries it (for up to 24 hours)."""
    code = "soapenv:Server" if server_side else "soapenv:Client"
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<soapenv:Envelope xmlns:soapenv="{ENVELOPE_NS}"><soapenv:Body><soapenv:Fault>'
        f"<faultcode>{code}</faultcode><faultstring>{escape(message)}</faultstring>"
        "</soapenv:Fault></soapenv:Body></soapenv:Envelope>"
    )
