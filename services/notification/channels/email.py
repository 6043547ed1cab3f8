"""E-mail over SMTP (aiosmtplib): plain text and HTML alternatives of the same notice.

The Message-ID is derived from the delivery id, so a mail system (or a person) can tell a redelivered copy.
Failure reasons carry SMTP codes, never the addresses (aiosmtplib's own messages would include them).
"""

import html
from email.message import EmailMessage
from email.utils import formatdate

import aiosmtplib

from services.notification.channels.base import DeliveryFailed
from services.notification.routing import EmailChannelConfig
from services.notification.wording import Notice

_PERMANENT_FROM = 500


def email_message(notice: Notice, config: EmailChannelConfig, delivery_id: str) -> EmailMessage:
    message = EmailMessage()
    message["Subject"] = notice.subject
    message["From"] = str(config.sender)
    message["To"] = ", ".join(config.recipients)
    message["Date"] = formatdate(localtime=False, usegmt=True)
    message["Message-ID"] = f"<{delivery_id}@rapport-guard>"
    message.set_content(notice.text)
    message.add_alternative(_html(notice), subtype="html")
    return message


def _html(notice: Notice) -> str:
    parts = [f"<h2>{html.escape(notice.headline)}</h2>", f"<p>{html.escape(notice.pattern)}</p>"]
    if notice.reasons:
        items = "".join(f"<li>{html.escape(reason)}</li>" for reason in notice.reasons)
        parts.append(f"<p><strong>Why</strong></p><ul>{items}</ul>")
    parts.append(f"<p><strong>Next touch:</strong> {html.escape(notice.next_touch)}</p>")
    if notice.held_back_note:
        parts.append(f"<p><em>{html.escape(notice.held_back_note)}</em></p>")
    return "<html><body>" + "".join(parts) + "</body></html>"


class EmailChannel:
    kind = "email"

    def __init__(self, name: str, config: EmailChannelConfig, timeout_seconds: float) -> None:
        self.name = name
        self.config = config
        self.timeout_seconds = timeout_seconds

    async def send(self, notice: Notice, delivery_id: str) -> None:
        config = self.config
        try:
            await aiosmtplib.send(
                email_message(notice, config, delivery_id),
                hostname=config.host,
                port=config.port,
                username=config.username,
                password=config.password.get_secret_value() if config.password else None,
                use_tls=config.security == "tls",
                start_tls=config.security == "starttls",
                timeout=self.timeout_seconds,
            )
        except aiosmtplib.SMTPRecipientsRefused as exc:
            codes = sorted({refusal.code for refusal in exc.recipients})
            raise DeliveryFailed(
                f"SMTP server refused the recipients (codes {codes})",
                retryable=all(code < _PERMANENT_FROM for code in codes),
            ) from None
        except aiosmtplib.SMTPResponseException as exc:
            raise DeliveryFailed(f"SMTP server answered {exc.code}", retryable=exc.code < _PERMANENT_FROM) from None
        except aiosmtplib.SMTPTimeoutError:
            raise DeliveryFailed("SMTP server did not answer in time", retryable=True) from None
        except (aiosmtplib.SMTPException, OSError) as exc:
            raise DeliveryFailed(f"cannot talk to the SMTP server ({type(exc).__name__})", retryable=True) from None
