"""Command modules: the bot's features, each a group found through the `chatbot.commands` entry point."""
