import sys

from bot.sandbox.fake_slack.core import main

sys.exit(main())
