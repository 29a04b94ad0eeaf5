from slack_bolt import App


def register(app: App) -> None:
    """Event listeners (reactions, App Home) are added by later features."""
