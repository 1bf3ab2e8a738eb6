"""Platform fakes, all in this folder: real HTTP servers on 127.0.0.1 that enforce the
platforms' published rules and verify signatures with the providers' own SDK code.

- ``platforms``: the 企业微信 and 钉钉 group robots and WeChat subscribe messages;
- ``sms_providers``: Alibaba Cloud and Tencent Cloud SMS;
- ``wechat_login``: the mini-programs' ``jscode2session``;
- ``server``: serves any of them on a free port in the test's event loop.
"""
