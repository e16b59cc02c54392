"""The bot's features, each a module found through the ``chatbot.commands`` entry point."""
