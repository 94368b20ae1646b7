"""HTTP serving shared by every server rtcsnap runs (the emulator, the callback receiver).

Below both, so neither reaches into the other: bounded request bodies (`body`) and uvicorn set up
the way a front door needs it (`server`: bind first, request-head deadlines, the fast parser and
loop when installed, a background-thread server for tests and embedding).
"""
