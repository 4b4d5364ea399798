"""A contact form mails the operator: no relay, kept for review (collect/recipients.py).

Small apps written for these tests, each contact form beside its twin that mails whoever
the request names (a relay anyone can use for spam): Express with nodemailer (the recipient
two objects deep, as ``sendMail(settings)`` with ``settings = { mailOptions }``), and Django
(``mail_admins`` and ``send_mail`` to a settings address, against ``send_mail`` to the
posted address).
"""

from __future__ import annotations

from pathlib import Path

from tests.test_precision import by_rule, scan
from threatmodel.models import Finding, Verdict

EXPRESS = """const express = require('express');
const nodemailer = require('nodemailer');

const app = express();
const transporter = nodemailer.createTransport({});

app.post('/contact', (req, res) => {
  const mailOptions = {
    to: process.env.SITE_CONTACT_EMAIL,
    from: req.body.email,
    text: req.body.message,
  };
  const settings = { mailOptions, retries: 1 };
  transporter.sendMail(settings.mailOptions);
  mailer.sendMail(settings);
  res.redirect('/contact');
});

app.post('/share', (req, res) => {
  const mailOptions = { to: req.body.friend, text: req.body.message };
  transporter.sendMail(mailOptions);
  res.redirect('/');
});

module.exports = app;
"""

VIEWS = """from django.conf import settings
from django.core.mail import mail_admins, send_mail
from django.http import HttpResponse


def contact(request):
    mail_admins("Contact", request.POST["message"])
    return HttpResponse("thanks")


def feedback(request):
    send_mail("Feedback", request.POST["message"], None, [settings.FEEDBACK_EMAIL])
    return HttpResponse("thanks")


def invite(request):
    send_mail("Invite", request.POST["message"], None, [request.POST["email"]])
    return HttpResponse("sent")
"""

SETTINGS = """MIDDLEWARE = ["django.middleware.common.CommonMiddleware"]
ROOT_URLCONF = "app.urls"
"""

URLS = """from django.urls import path

from app import views

urlpatterns = [
    path("contact/", views.contact),
    path("feedback/", views.feedback),
    path("invite/", views.invite),
]
"""


def _route(findings: list[Finding], path: str) -> Finding:
    found = [f for f in findings if f.claims[0].route and f.claims[0].route.path == path]
    assert found, (path, [f.title for f in findings])
    return found[0]


def _contact_form(f: Finding) -> None:
    assert f.verdict is Verdict.UNVERIFIABLE, (f.title, f.verdict, f.reason)
    assert f.severity.value == "low" and "contact form" in (f.reason or "")


def _relay(f: Finding) -> None:
    assert f.verdict is Verdict.CONFIRMED, (f.title, f.verdict, f.reason)
    assert "contact form" not in (f.reason or "") and "email" in f.title


def test_an_express_contact_form_is_no_relay(tmp_path: Path) -> None:
    files = {"package.json": '{"dependencies": {"express": "4"}}', "app.js": EXPRESS}
    tm101 = by_rule(scan(tmp_path, files), "TM101")
    _contact_form(_route(tm101, "/contact"))
    _relay(_route(tm101, "/share"))


def test_a_django_mail_to_the_operator_is_no_relay(tmp_path: Path) -> None:
    files = {
        "manage.py": "import django\n",
        "app/__init__.py": "",
        "app/settings.py": SETTINGS,
        "app/views.py": VIEWS,
        "app/urls.py": URLS,
    }
    tm101 = by_rule(scan(tmp_path, files), "TM101")
    _contact_form(_route(tm101, "/contact/"))
    _contact_form(_route(tm101, "/feedback/"))
    _relay(_route(tm101, "/invite/"))
