"""A local stand-in for Twilio's Messages API and Content API, validated against Twilio's own OpenAPI descriptions.

Point twilio-python 9 at it by changing the API domain's base URL on the client:

    client = Client(account_sid, auth_token)
    client.api.base_url = "http://127.0.0.1:4010"   # no trailing path; Domain joins it with /2010-04-01/...

`client.messages.create(...)` and `client.messages(sid).fetch()` then go to the stand-in, with the same
HTTP Basic auth, form encoding and error handling (TwilioRestException) as against Twilio. Leave
TWILIO_EDGE and TWILIO_REGION unset (and do not pass edge/region): with either set, the client rewrites
the hostname into product.edge.region.twilio.com form and the request leaves the machine.

The Content API the same way: `client.content.base_url = "http://127.0.0.1:4010"`; then
`client.content.v1.contents.create(...)`, `.stream()` and `client.content.v1.contents(sid).fetch()` are served
too, checked against twilio_content_v1.json, and a send with one of these ContentSids is rendered as Twilio does.

In tests: `base_url, handle = run_standin_in_thread(token, sid)`; `handle.set_faults(rate_limit=2)`;
`handle.wait_for(1)`. Over HTTP: POST /_standin/faults, GET /_standin/messages?to=, /_standin/requests,
/_standin/callbacks, /_standin/wait?count=N&timeout=S, POST /_standin/reset.
"""

from standin.app import create_standin
from standin.server import StandinHandle, run_standin_in_thread
from standin.state import Faults, StandinState

__all__ = ["Faults", "StandinHandle", "StandinState", "create_standin", "run_standin_in_thread"]
