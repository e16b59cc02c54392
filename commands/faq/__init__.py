"""Answering members' questions from a knowledge base."""
