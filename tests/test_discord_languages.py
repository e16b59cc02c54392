"""The Discord adapter in the member's language: the interaction's locale, the server's
primary language, the adapter's own words, and slash commands described in every language
the bot speaks."""

from __future__ import annotations

from typing import Literal

import pytest

from adapters.discord.choice_names import CHOICE_NAMES
from chatbot.base.i18n import verbatim
from chatbot.dispatch.context import Context
from chatbot.dispatch.converters import YesNoMaybe
from chatbot.dispatch.registry import Module
from chatbot.messages.events import Reply
from commands import announce, basics, members
from tests.discord_fake import FakeDiscord, RecordedMessage, User
from tests.discord_helpers import Gate, RunningBot, StartBot, main_guild, make_test_module

pytest_plugins = ["tests.discord_fixtures"]

GUILD_COMMANDS = "/applications/{application_id}/guilds/{guild_id}/commands"

EMPTY_ES = "Aún no hay salas de difusión. Añade esta con `!announce rooms add here`."
EMPTY_EN = "No broadcast rooms yet. Add this one with `!announce rooms add here`."


def with_announce(gate: Gate) -> list[Module]:
    return [basics.module, members.module, announce.module, make_test_module(gate)]


def buttons(message: RecordedMessage) -> list[tuple[str, str]]:
    return [
        (str(c["custom_id"]), str(c["label"])) for r in message.components for c in r["components"]
    ]


async def test_the_interaction_locale_picks_the_language_of_the_reply(
    discord_fake: FakeDiscord, start_bot: StartBot, gate: Gate
) -> None:
    """No `!lang` set: a slash command from an app in Spanish (es-ES) or Latin American
    Spanish (es-419) is answered in Spanish, from French in French, from en-US in English;
    once the member picks German with `!lang de`, that wins over the app's locale."""
    fake = discord_fake
    async with start_bot(modules=with_announce(gate)):

        async def rooms(locale: str) -> str | None:
            pending = await fake.invoke_command(
                "announce", subcommand="rooms", user="alice", locale=locale
            )
            return (await pending.wait_for_response()).content

        assert await rooms("es-ES") == EMPTY_ES
        assert await rooms("es-419") == EMPTY_ES
        assert await rooms("fr") == (
            "Pas encore de salon de diffusion. Ajoutez celui-ci avec `!announce rooms add here`."
        )
        assert await rooms("pt-BR") == (
            "Ainda não há salas de divulgação. Adicione esta com `!announce rooms add here`."
        )
        assert await rooms("en-US") == EMPTY_EN
        general = main_guild(fake).channel("general")
        start = len(fake.sent)
        await fake.send_message(general, "alice", "!lang de")
        await fake.wait_for_message(channel_id=general.id, start=start)
        assert await rooms("es-ES") == (
            "Noch keine Verteilerräume. Füg diesen mit `!announce rooms add here` hinzu."
        )


async def test_the_adapters_own_words_follow_the_locale(
    discord_fake: FakeDiscord, bot: RunningBot, bob: User
) -> None:
    """A long form's pages in Portuguese: the "saved" note and its "Next page" button, and
    the button of an expired form, are in the member's language."""
    fake = discord_fake
    opened = await fake.invoke_command("survey", user=bob, locale="pt-BR")
    first = await opened.wait_for_response()
    assert first.modal is not None
    page1 = {f"q{i}": f"resposta {i}" for i in range(1, 6)}
    submitted = await fake.submit_modal(first, page1, user=bob, locale="pt-BR")
    saved = await submitted.wait_for_response()
    assert saved.content == "Página 1 de 2 salva. Continue na próxima página."
    assert saved.message is not None
    assert buttons(saved.message) == [("wmlib:page:1:survey", "Próxima página")]

    general = main_guild(fake).channel("general")
    start = len(fake.sent)
    await fake.send_message(general, bob, "!survey")
    posted = await fake.wait_for_message(channel_id=general.id, start=start)
    assert buttons(posted) == [("wmlib:form:survey", "Open form")]  # read by the room: English
    bot.adapter._forms.clear()  # as after a restart that lost it
    await bot.bot.db.drop_state("discord:form:survey")
    clicked = await fake.click_button(posted, "wmlib:form:survey", user=bob, locale="de")
    expired = await clicked.wait_for_response()
    assert expired.content == (
        "Dieses Formular ist abgelaufen (vielleicht wurde ich neu gestartet). Führ den Befehl "
        "noch einmal aus, dann bekommst du ein neues."
    )


async def test_slash_commands_carry_their_descriptions_in_every_language(
    discord_fake: FakeDiscord, start_bot: StartBot, gate: Gate
) -> None:
    """The registered `/announce` is described in Spanish (both of Discord's Spanish
    locales), French, Brazilian Portuguese and German, its options too; its name stays
    English.  A restart finds Discord holding the same and does not sync again."""
    fake = discord_fake
    guild = main_guild(fake)
    async with start_bot(modules=with_announce(gate)):
        pass
    sync = fake.command_syncs[-1]
    command = next(c for c in sync.commands if c["name"] == "announce")
    assert command["description"] == "Send an announcement to every broadcast room."
    assert command["description_localizations"] == {
        "es-ES": "Envía un anuncio a todas las salas de difusión.",
        "es-419": "Envía un anuncio a todas las salas de difusión.",
        "fr": "Envoyer une annonce dans tous les salons de diffusion.",
        "pt-BR": "Enviar um anúncio para todas as salas de divulgação.",
        "de": "Sende eine Ankündigung an alle Verteilerräume.",
    }
    assert command["name_localizations"] is None
    subs = {o["name"]: o for o in command["options"]}
    assert subs["status"]["description_localizations"]["fr"] == (
        "Où une annonce a été publiée, salon par salon."
    )
    (number,) = subs["status"]["options"]
    assert number["description_localizations"]["de"] == "die Nummer der Ankündigung"
    ping = next(c for c in sync.commands if c["name"] == "ping")
    assert ping["description_localizations"]["es-ES"] == "Comprueba que te estoy escuchando."

    async with start_bot(modules=with_announce(gate)):
        pass
    assert len(fake.command_syncs) == 1  # held_matches compared the localisations too
    reads = [r for r in fake.requests if r.method == "GET" and r.route == GUILD_COMMANDS]
    assert len(reads) == 2 and all(r.query.get("with_localizations") == "true" for r in reads)
    assert guild.id == sync.guild_id


def with_choices() -> list[Module]:
    module = Module("choicetest", "Fixed choices in every language.")

    @module.command(help="Answer with fixed choices.")
    async def pick(
        ctx: Context, state: Literal["on", "off"], answer: YesNoMaybe = "maybe"
    ) -> Reply:
        return Reply.of(verbatim("state={state} answer={answer}", state=state, answer=answer))

    return [basics.module, module]


async def test_slash_command_choices_are_named_in_every_language(
    discord_fake: FakeDiscord, start_bot: StartBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The picker names a command's fixed choices in Spanish, French, Portuguese and German
    while each choice keeps its value, so choosing `sí` from a Spanish app runs the command
    with `yes`.  Discord holding choices named by an older catalog (here: `on`/`off` not
    translated yet) is a change, synced on start; holding the same is not."""
    fake = discord_fake
    guild = main_guild(fake)
    with monkeypatch.context() as older:
        older.delitem(CHOICE_NAMES, "on")
        older.delitem(CHOICE_NAMES, "off")
        async with start_bot(modules=with_choices()):
            pass
    (first,) = fake.command_syncs
    pick = next(c for c in first.commands if c["name"] == "pick")
    assert pick["options"][0]["choices"] == [
        {"name": "on", "value": "on"},
        {"name": "off", "value": "off"},
    ]

    async with start_bot(modules=with_choices()):
        assert len(fake.command_syncs) == 2
        pick = next(c for c in fake.command_syncs[-1].commands if c["name"] == "pick")
        state, answer = pick["options"]
        assert state["choices"] == [
            {
                "name": "on",
                "value": "on",
                "name_localizations": {
                    "es-ES": "activar",
                    "es-419": "activar",
                    "fr": "activer",
                    "pt-BR": "ativar",
                    "de": "ein",
                },
            },
            {
                "name": "off",
                "value": "off",
                "name_localizations": {
                    "es-ES": "desactivar",
                    "es-419": "desactivar",
                    "fr": "désactiver",
                    "pt-BR": "desativar",
                    "de": "aus",
                },
            },
        ]
        yes = answer["choices"][0]
        assert (yes["name"], yes["value"]) == ("yes", "yes")
        assert yes["name_localizations"] == {
            "es-ES": "sí",
            "es-419": "sí",
            "fr": "oui",
            "pt-BR": "sim",
            "de": "ja",
        }
        # Discord holds them (and gives them back when asked with_localizations)
        held = next(c for c in fake.guild_commands[guild.id] if c["name"] == "pick")
        assert held["options"][1]["choices"][0]["name_localizations"]["pt-BR"] == "sim"

        for locale in ("es-ES", "fr", "pt-BR", "de"):
            chosen = await fake.invoke_command(
                "pick", {"state": "off", "answer": "yes"}, user="alice", locale=locale
            )
            reply = await chosen.wait_for_response()
            assert reply.content == "state=off answer=yes"

    async with start_bot(modules=with_choices()):
        pass
    assert len(fake.command_syncs) == 2  # Discord holds the same names: no sync


async def test_a_community_servers_language_is_its_channels_language(
    discord_fake: FakeDiscord, start_bot: StartBot, gate: Gate
) -> None:
    """A prefix command from a member with no `!lang`, in a Community server whose primary
    language is French, is answered in French; a server that is not a Community server has
    no real choice (Discord's en-US), so the bot's default applies there."""
    fake = discord_fake
    guild = main_guild(fake)
    guild.preferred_locale = "fr"
    general = guild.channel("general")
    async with start_bot(modules=with_announce(gate)):
        await fake.send_message(general, "alice", "!announce rooms")
        plain = await fake.wait_for_message(channel_id=general.id)
    assert plain.content == EMPTY_EN
    guild.features = ["COMMUNITY"]
    async with start_bot(modules=with_announce(gate)):
        await fake.send_message(general, "alice", "!announce rooms")
        community = await fake.wait_for_message(channel_id=general.id, start=plain.index + 1)
    assert community.content == (
        "Pas encore de salon de diffusion. Ajoutez celui-ci avec `!announce rooms add here`."
    )
