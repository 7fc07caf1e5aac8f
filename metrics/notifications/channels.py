"""Where a message goes: one `send(message)` interface for e-mail and for the department group robots.

- `EmailChannel`: one person's address, through Django's e-mail framework (settings.EMAIL_*: the console
  backend on a laptop, SMTP in production; locmem in tests).
- `WeComRobot` / `DingTalkRobot`: a group robot's webhook (企业微信 / 钉钉), an HTTP POST of JSON
  {"msgtype": "text", "text": {"content": …}} with a timeout (settings.PLANBOARD_ROBOT_TIMEOUT). Both
  answer {"errcode": 0, "errmsg": "ok"} when they took the message; anything else is a failure.

`send` raises `DeliveryFailed` saying why; the delivery service records it (never raised to the user).
A new channel kind is a class with `kind`, `address` and `send`, and a line in `channel_for`.
"""

import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import urlsplit

from django.conf import settings
from django.core.mail import EmailMessage

from metrics.choices import ChannelKind


@dataclass(frozen=True)
class Message:
    subject: str
    body: str


class DeliveryFailed(Exception):
    """The channel did not take the message; the text says why (for the delivery log)."""


class Channel(Protocol):
    kind: str

    @property
    def address(self) -> str: ...

    def send(self, message: Message) -> None: ...


@dataclass(frozen=True)
class EmailChannel:
    to: str
    kind: str = ChannelKind.EMAIL

    @property
    def address(self) -> str:
        return self.to

    def send(self, message: Message) -> None:
        try:
            sent = EmailMessage(subject=message.subject, body=message.body, from_email=settings.DEFAULT_FROM_EMAIL, to=[self.to]).send()
        except Exception as exc:  # noqa: BLE001 (SMTP, DNS, TLS, refused recipients: each is a failed delivery, said in words)
            raise DeliveryFailed(f"{type(exc).__name__}: {exc}") from exc
        if not sent:
            raise DeliveryFailed("the e-mail backend sent nothing")


@dataclass(frozen=True)
class RobotChannel:
    """A group robot's webhook. The URL carries the robot's key, so the log keeps only its host."""

    url: str
    kind: str = ""

    @property
    def address(self) -> str:
        return urlsplit(self.url).netloc

    def payload(self, message: Message) -> dict:
        return {"msgtype": "text", "text": {"content": f"{message.subject}\n{message.body}"}}

    def send(self, message: Message) -> None:
        data = json.dumps(self.payload(message), ensure_ascii=False).encode("utf-8")
        request = urllib.request.Request(self.url, data=data, method="POST", headers={"Content-Type": "application/json; charset=utf-8"})
        try:
            with urllib.request.urlopen(request, timeout=settings.PLANBOARD_ROBOT_TIMEOUT) as response:  # noqa: S310 (http/https only: the model validates the scheme)
                body = response.read(10_000)
        except urllib.error.HTTPError as exc:
            raise DeliveryFailed(f"HTTP {exc.code} from {self.address}") from exc
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            raise DeliveryFailed(f"{self.address} unreachable: {getattr(exc, 'reason', exc)}") from exc
        try:
            answer = json.loads(body or b"{}")
        except ValueError as exc:
            raise DeliveryFailed(f"{self.address} answered something other than JSON") from exc
        if not isinstance(answer, dict) or answer.get("errcode", 0) != 0:
            code = answer.get("errcode") if isinstance(answer, dict) else "?"
            text = answer.get("errmsg", "") if isinstance(answer, dict) else ""
            raise DeliveryFailed(f"{self.address} refused the message: errcode {code} {text}".strip())


@dataclass(frozen=True)
class WeComRobot(RobotChannel):
    kind: str = ChannelKind.WECOM


@dataclass(frozen=True)
class DingTalkRobot(RobotChannel):
    kind: str = ChannelKind.DINGTALK


def channel_for(department_channel) -> RobotChannel:
    """The channel object of a DepartmentChannel row."""
    robots = {ChannelKind.WECOM: WeComRobot, ChannelKind.DINGTALK: DingTalkRobot}
    return robots[department_channel.kind](url=department_channel.webhook_url)
