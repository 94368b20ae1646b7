"""The Volcengine RTC snapshot service's protocol, shared by both sides of every exchange.

The OpenAPI client and the emulator's front door use the same action table (`api`), error
catalogue (`codes`) and V4 signer (`signer`); the emulator's callback sender and the callback
receiver use the same callback signature (`callback_signature`). Nothing here imports either
side, so neither reaches sideways into the other.
"""
