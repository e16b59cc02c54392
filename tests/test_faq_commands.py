"""The FAQ module in the bot: !ask, DMs and mentions, !faq, stored edits and the CLI."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from chatbot.base.clock import FakeClock
from chatbot.messages.events import Incoming, Member, Plain, Room
from chatbot.messages.localise import localise
from commands import basics, members
from commands import faq as faq_module
from commands.faq.cli import faq_main
from commands.faq.index import load_kb, parse_kb
from commands.faq.service import FaqService
from commands.faq.store import Unanswered
from tests.harness import ConsoleChat, open_chat

MODULES = [basics.module, members.module, faq_module.module]


async def open_faq_chat(url: str, clock: FakeClock) -> ConsoleChat:
    """A console chat with the FAQ module enabled."""
    return await open_chat(url, clock, modules=MODULES)


@pytest.fixture
async def chat(sqlite_url: str, clock: FakeClock) -> AsyncIterator[ConsoleChat]:
    """A chat on SQLite with the FAQ module."""
    chat = await open_faq_chat(sqlite_url, clock)
    try:
        yield chat
    finally:
        await chat.bot.close()


def faq_service(chat: ConsoleChat) -> FaqService:
    """The FAQ service of the chat's bot."""
    svc = chat.bot.services["faq"]
    assert isinstance(svc, FaqService)
    return svc


async def open_questions(chat: ConsoleChat) -> list[Unanswered]:
    """The recorded, still open questions, newest first."""
    return await faq_service(chat).store.recent(50)


# --- asking ----------------------------------------------------------------------------------


async def test_ask_answers_with_title_and_see_also(chat: ConsoleChat) -> None:
    """!ask gives the best entry's question and answer, and offers close siblings."""
    out = await chat.say("!ask 1lib1ref campaign")
    assert out.startswith("Q: ") and "#1Lib1Ref" in out.splitlines()[0]
    assert "See also: " in out
    # the three #1Lib1Ref entries: one answers, the other two are offered
    shown = [x for x in ("1lib1ref`", "1lib1ref-how`", "1lib1ref-dates`") if f"show {x}" in out]
    assert len(shown) == 2


async def test_dm_question_is_answered(chat: ConsoleChat) -> None:
    """Plain text in a direct message is answered from the knowledge base."""
    out = await chat.say("how do i jion the group?", room="dm")
    assert out.startswith("Q: How do I join the user group?")
    assert "hello" in (await chat.say("hi")).casefold()


async def test_thanks_is_welcomed_and_not_recorded(chat: ConsoleChat) -> None:
    """Thanks, in a DM or after !ask, gets a "you're welcome", not an answer about the bot."""
    assert await chat.say("thanks bot!", room="dm") == "You're welcome!"
    assert await chat.say("!ask thank you so much") == "You're welcome!"
    assert await open_questions(chat) == []


async def test_mention_is_answered_and_plain_room_text_is_not(chat: ConsoleChat) -> None:
    """A message mentioning the bot is answered; other room chatter is left alone."""
    assert await chat.say("when is the next meeting") == ""
    bob = Member("console:bob", "console", "bob")
    room = Room("console:#general", "console", "#general")
    chat.out.seek(0)
    chat.out.truncate()
    await chat.bot.handle(
        Incoming("console", bob, room, "when is the next meeting?", "m-1", mentions_bot=True)
    )
    assert chat.out.getvalue().startswith("Q: When is the next group meeting?")


async def test_off_topic_question_abstains_suggests_and_is_recorded(chat: ConsoleChat) -> None:
    """Below the threshold the bot says so, names the nearest topics and records the question."""
    out = await chat.say(
        "!ask how do I join the Wikimedia Foundation board of trustees", as_="bob", room="#help"
    )
    assert out.startswith("I don't know the answer to “how do I join the Wikimedia Foundation")
    assert "noted your question for the organisers" in out
    assert "The nearest topics I know:\n• " in out and "`!faq show " in out
    [row] = await open_questions(chat)
    assert row.text == "how do I join the Wikimedia Foundation board of trustees"
    assert (row.member_id, row.room_id) == ("console:bob", "console:#help")
    assert row.asked_at == chat.bot.clock.now()
    await chat.say("!ask how do I join the Wikimedia Foundation board of trustees")
    assert len(await open_questions(chat)) == 1  # the same open question is kept once


async def test_non_english_question_is_answered(chat: ConsoleChat) -> None:
    """A question in Spanish gets the English entry it asks about (the multilingual model)."""
    out = await chat.say("!ask ¿Dónde está el informe anual del grupo?")
    assert out.startswith("Q: Where can I read the group's annual report?"), out
    assert await open_questions(chat) == []


async def test_non_english_question_gets_a_pointer_without_the_model(
    sqlite_url: str, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With the lexical method alone, a question in another language gets a polite pointer
    in English naming the language."""
    from commands.faq.service import METHOD_ENV

    monkeypatch.setenv(METHOD_ENV, "plain")
    chat = await open_faq_chat(sqlite_url, clock)
    try:
        out = await chat.say("!ask ¿Dónde está el informe anual del grupo?")
        assert out.startswith("It looks like you wrote in Spanish. I can only answer in English")
        [row] = await open_questions(chat)
        assert row.lang == "es"
    finally:
        await chat.bot.close()


async def test_hostile_question_is_stored_verbatim_and_echoed_as_plain(
    chat: ConsoleChat,
) -> None:
    """Markup, mentions and quotes in a question are stored as typed and echoed as Plain."""
    hostile = 'bake **bread** <script>alert(1)</script> @everyone `rm -rf` ${x} %s "\\" \u202e'
    sent = chat.record_sent()
    text = await chat.say(f"!ask {hostile}")
    assert hostile in text
    [row] = await open_questions(chat)
    assert row.text == hostile
    # as the adapter renders it: the message translated, the question still a Plain part
    parts = localise(sent[-1]).reply.parts
    plain = [p.text for p in parts if isinstance(p, Plain)]
    assert hostile in plain
    assert all(hostile not in p for p in parts if isinstance(p, str))


# --- organisers --------------------------------------------------------------------------------


async def test_unanswered_is_for_organisers_only(chat: ConsoleChat) -> None:
    """A member is refused !faq unanswered; the organiser ana sees the numbered questions."""
    await chat.say("!ask what is the wifi password at the library", as_="bob")
    assert "Only organisers can use `!faq unanswered`" in await chat.say("!faq unanswered")
    out = await chat.say("!faq unanswered", as_="ana")
    assert "#1 " in out and "console:bob" in out
    assert "“what is the wifi password at the library”" in out


async def test_answer_makes_the_question_match_next_time(chat: ConsoleChat) -> None:
    """!faq answer N <id> adds the question as a phrasing of the entry and closes it."""
    question = "What do you know about me?"
    assert (await chat.say(f"!ask {question}", as_="bob")).startswith("I don't know")
    [row] = await open_questions(chat)
    out = await chat.say(f"!faq answer {row.id} bot-mydata", as_="ana")
    assert f"question #{row.id}" in out and "`bot-mydata`" in out
    assert (await chat.say(f"!ask {question}", as_="bob")).startswith(
        "Q: What data does the bot keep about me?"
    )
    assert await open_questions(chat) == []
    assert "No unanswered questions" in await chat.say("!faq unanswered", as_="ana")


async def test_nearmiss_stops_a_wrong_answer(chat: ConsoleChat) -> None:
    """An organiser teaches that an entry does not answer a question: the bot then says it
    does not know (and records it), `!faq show` lists it, and `!faq alias` takes it back."""
    question = "Which room is the meeting in?"
    title = "Q: How do I attend an online meeting?"
    assert (await chat.say(f"!ask {question}", as_="bob")).startswith(title)
    assert "Only organisers" in await chat.say(f"!faq nearmiss attend-meeting {question}")
    out = await chat.say(f"!faq nearmiss attend-meeting {question}", as_="ana")
    assert "Noted: `attend-meeting` does not answer “Which room is the meeting in?”" in out
    assert "already lists" in await chat.say(f"!faq nearmiss attend-meeting {question}", as_="ana")
    assert (await chat.say(f"!ask {question}", as_="bob")).startswith("I don't know")
    assert [row.text for row in await open_questions(chat)] == [question]
    show = await chat.say("!faq show attend-meeting")
    assert "Does not answer (" in show and question in show
    await chat.say(f"!faq alias attend-meeting {question}", as_="ana")
    assert (await chat.say(f"!ask {question}", as_="bob")).startswith(title)
    assert question not in (await chat.say("!faq show attend-meeting")).split("Does not answer")[-1]
    own = "how do i attend an online meeting"
    out = await chat.say(f"!faq nearmiss attend-meeting {own}", as_="ana")
    assert "That's the question of `attend-meeting` itself" in out


async def test_show_lists_the_latest_phrasings_and_all_by_direct_message(chat: ConsoleChat) -> None:
    """An entry with many phrasings shows the latest few and how many; `all` sends every one
    by direct message, so a room is not flooded."""
    entry = faq_service(chat).kb.get("attend-meeting")
    assert entry is not None and len(entry.alternates) > 5 and len(entry.near_misses) > 5
    out = await chat.say("!faq show attend-meeting", as_="bob")
    assert f"Also asked as ({len(entry.alternates)}, the latest 5): " in out
    assert entry.alternates[-1] in out and entry.alternates[0] not in out
    assert f"Does not answer ({len(entry.near_misses)}, the latest 5): " in out
    assert "`!faq show attend-meeting all` lists them all." in out
    out = await chat.say("!faq show attend-meeting all", as_="bob")
    *dm, notice = out.splitlines()
    assert notice == "I've sent you a direct message."
    assert all(line.startswith("[DM to bob] ") for line in dm)
    assert entry.alternates[0] in out and entry.near_misses[0] in out


async def test_edits_are_validated_and_name_the_problem(chat: ConsoleChat) -> None:
    """Invalid edits are refused with the engine's reason, and existing ids are protected."""
    out = await chat.say('!faq add -wifi "Wifi?" On the desk.', as_="ana")
    assert "can't save entry '-wifi': field 'id' must be 1-100 letters" in out
    assert "no entry '-wifi'" in await chat.say("!faq show -wifi")
    out = await chat.say('!faq add wifi "   " The password is on the desk.', as_="ana")
    assert "The question is too short" in out
    assert "already an entry 'meetings'" in await chat.say('!faq add meetings "Q?" A.', as_="ana")
    assert "no entry 'nosuch'" in await chat.say("!faq edit nosuch answer x", as_="ana")
    assert "Only organisers" in await chat.say('!faq add wifi "Wifi?" On the desk.', as_="bob")


@pytest.mark.postgres
async def test_edits_persist_across_a_restart(db_url: str, clock: FakeClock) -> None:
    """add, edit, alias and remove are stored in the database and survive a restart."""
    first = await open_faq_chat(db_url, clock)
    try:
        await first.say("/as ana")
        assert "Added `wifi`" in await first.say(
            '!faq add wifi "What is the wifi password?" Ask at the front desk.'
        )
        await first.say("!faq edit wifi answer It is on the notice board, see `!help`.")
        await first.say("!faq edit wifi tags venue, practical")
        await first.say("!faq alias wifi how do I get online in the library")
        await first.say("!faq nearmiss wifi is the wifi fast enough for video calls")
        await first.say("!faq edit meetings question When do we meet next?")
        assert "Removed `swot-analysis`" in await first.say("!faq remove swot-analysis")
    finally:
        await first.bot.close()

    second = await open_faq_chat(db_url, clock)
    try:
        out = await second.say("!ask how do I get online in the library")
        assert out.startswith("Q: What is the wifi password?\nIt is on the notice board")
        show = await second.say("!faq show wifi")
        assert "Topics: venue, practical" in show
        assert "how do I get online in the library" in show
        assert "Does not answer: is the wifi fast enough for video calls" in show
        assert (await second.say("!ask is the wifi fast enough for video calls")).startswith(
            "I don't know"
        )
        assert (await second.say("!ask when is the next meeting")).startswith(
            "Q: When do we meet next?"
        )
        assert "no entry 'swot-analysis'" in await second.say("!faq show swot-analysis")
        assert "`swot-analysis` is back as shipped" in await second.say(
            "!faq reset swot-analysis", as_="ana"
        )
        assert "Removed `wifi`" in await second.say("!faq remove wifi")
    finally:
        await second.bot.close()

    third = await open_faq_chat(db_url, clock)
    try:
        assert "What is the group's SWOT analysis?" in await third.say("!faq show swot-analysis")
        assert "no entry 'wifi'" in await third.say("!faq show wifi")
    finally:
        await third.bot.close()


@pytest.mark.postgres
@pytest.mark.postgres
async def test_edits_reach_another_running_instance(postgres_url: str, clock: FakeClock) -> None:
    """Two bots on one database (PostgreSQL: a SQLite file serves one bot): an edit through
    one is answered by the other."""
    one = await open_faq_chat(postgres_url, clock)
    two = await open_faq_chat(postgres_url, clock)
    try:
        assert "Added" in await one.say(
            '!faq add wikimania "When is Wikimania?" Every summer.', as_="ana"
        )
        assert (await two.say("!ask when is wikimania")).startswith("Q: When is Wikimania?")
    finally:
        await one.bot.close()
        await two.bot.close()


@pytest.mark.postgres
async def test_an_entry_added_in_chat_answers_a_paraphrase_on_another_instance(
    postgres_url: str, clock: FakeClock
) -> None:
    """``!faq add`` (question and answer only) on one bot: another bot on the same database
    answers a paraphrase of it at once, in English and in Spanish, and an edit of its answer
    reaches it too, with no restart."""
    one = await open_faq_chat(postgres_url, clock)
    two = await open_faq_chat(postgres_url, clock)
    try:
        assert "Added" in await one.say(
            '!faq add parking "Where can I park my car at the meetup venue?" '
            "There is a free car park behind the library.",
            as_="ana",
        )
        out = await two.say("!ask where do I leave my car during the meetup")
        assert out.startswith("Q: Where can I park my car at the meetup venue?"), out
        out = await two.say("!ask ¿Dónde puedo aparcar el coche en el lugar del encuentro?")
        assert out.startswith("Q: Where can I park my car at the meetup venue?"), out
        await one.say("!faq edit parking answer Parking is in the basement, level -2.", as_="ana")
        out = await two.say("!ask where do I leave my car during the meetup")
        assert "basement" in out, out
    finally:
        await one.bot.close()
        await two.bot.close()


# --- privacy -----------------------------------------------------------------------------------


async def test_mydata_and_forgetme_cover_unanswered_questions(chat: ConsoleChat) -> None:
    """!mydata lists the member's unanswered questions; !forgetme deletes them."""
    await chat.say("!ask what is the wifi password at the library", as_="wanjiru")
    await chat.say("!ask is the cafe open on sundays", as_="bob")
    out = await chat.say("!mydata", as_="wanjiru")
    text = "\n".join(
        line.removeprefix("[DM to wanjiru] ")
        for line in out.splitlines()
        if line.startswith("[DM to wanjiru]")
    )
    data = json.loads(text[text.index("{") : text.rindex("}") + 1])
    [question] = data["faq"]["unanswered_questions"]
    assert question["text"] == "what is the wifi password at the library"
    out = await chat.say("!forgetme confirm")
    assert "deleted the 1 question you asked" in out
    assert [r.member_id for r in await open_questions(chat)] == ["console:bob"]


# --- command line ------------------------------------------------------------------------------


@pytest.mark.postgres
def test_export_import_round_trip(
    db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """faq_main export prints the effective base; importing it back changes nothing."""
    config = tmp_path / "config.toml"
    config.write_text(
        f'[bot]\ndatabase = "{db_url}"\ncommands = ["basics", "members"]\n', encoding="utf-8"
    )
    assert faq_main(["export"], str(config)) == 0
    exported = capsys.readouterr().out
    assert parse_kb(exported) == load_kb()

    edited = exported.replace(
        "What is the group's SWOT analysis?", "Where is the SWOT analysis?"
    ) + ('\n[[entry]]\nid = "wifi"\nquestion = "What is the wifi password?"\nanswer = "Ask."\n')
    kb_file = tmp_path / "kb.toml"
    kb_file.write_text(edited, encoding="utf-8")
    assert faq_main(["import", str(kb_file)], str(config)) == 0
    assert "1 changed and 1 added" in capsys.readouterr().out
    assert faq_main(["export"], str(config)) == 0
    again = capsys.readouterr().out
    assert parse_kb(again) == parse_kb(edited)

    kb_file.write_text(again, encoding="utf-8")
    assert faq_main(["import", str(kb_file)], str(config)) == 0
    capsys.readouterr()
    assert faq_main(["export"], str(config)) == 0
    assert capsys.readouterr().out == again

    kb_file.write_text('[[entry]]\nid = "x"\nquestion = "Q"\n', encoding="utf-8")
    assert faq_main(["import", str(kb_file)], str(config)) == 1
    assert "entry #1 (id 'x'): missing field 'answer'" in capsys.readouterr().err
    assert faq_main(["export"], str(config)) == 0
    assert capsys.readouterr().out == again


# --- knowledge-base files named in the config ---------------------------------------------


async def test_config_files_replace_and_amend_the_shipped_base(
    sqlite_url: str, clock: FakeClock, tmp_path: Path
) -> None:
    """[modules.faq] files: read relative to the config file; a later file's entry replaces
    the same id of an earlier one, and everything else is answered from both."""
    from chatbot.base.config import parse_config
    from commands.faq.index import DEFAULT_KB_PATH
    from commands.faq.service import kb_paths

    (tmp_path / "kb").mkdir()
    (tmp_path / "kb" / "local.toml").write_text(
        '[[entry]]\nid = "wifi"\nquestion = "What is the wifi password at the workshop?"\n'
        'answer = "It is on the whiteboard by the door."\n'
        '[[entry]]\nid = "1lib1ref"\nquestion = "What is #1Lib1Ref?"\n'
        'answer = "Our local #1Lib1Ref page: see the pinned message."\n',
        encoding="utf-8",
    )
    text = f'[modules.faq]\nfiles = ["{DEFAULT_KB_PATH}", "kb/local.toml"]\n'
    config = parse_config(text, str(tmp_path / "config.toml"))
    paths, method = kb_paths(config)
    assert paths == [DEFAULT_KB_PATH, tmp_path / "kb" / "local.toml"] and method == "hybrid"

    absolute = f'[modules.faq]\nfiles = ["{DEFAULT_KB_PATH}", "{paths[1]}"]\n'
    chat = await open_chat(sqlite_url, clock, absolute, modules=MODULES)
    try:
        assert "whiteboard by the door" in await chat.say("!ask wifi password for the workshop")
        assert "pinned message" in await chat.say("!ask what is 1lib1ref")
        assert "Wikipedia Library" in await chat.say("!ask what is the wikipedia library")
    finally:
        await chat.bot.close()


def test_config_names_a_missing_file_or_a_bad_method(tmp_path: Path) -> None:
    """A missing knowledge-base file or an unknown method stops start-up with the key's line."""
    from chatbot.base.config import parse_config
    from chatbot.base.errors import ConfigError
    from commands.faq.service import kb_paths

    source = str(tmp_path / "config.toml")
    config = parse_config('[bot]\nname = "x"\n\n[modules.faq]\nfiles = ["nope.toml"]\n', source)
    with pytest.raises(ConfigError, match=r"config.toml:5: modules.faq.files: .*nope.toml"):
        kb_paths(config)
    config = parse_config('[modules.faq]\nmethod = "magic"\n', source)
    with pytest.raises(ConfigError, match=r"modules.faq.method"):
        kb_paths(config)


def test_shipped_answers_link_the_pages_they_name() -> None:
    """An answer that sends a member to a page on meta.wikimedia.org gives its address,
    not a "search for …" errand."""
    import tomllib

    from commands.faq.index import DEFAULT_KB_PATH

    entries = tomllib.loads(DEFAULT_KB_PATH.read_text(encoding="utf-8"))["entry"]
    for entry in entries:
        answer = entry["answer"]
        assert "search for" not in answer.casefold(), entry["id"]
        if "meta.wikimedia.org" in answer:
            assert "https://meta.wikimedia.org/wiki/" in answer, entry["id"]


@pytest.mark.parametrize(
    ("lang", "word"), [("es", "todo"), ("fr", "tout"), ("pt", "tudo"), ("de", "alle")]
)
async def test_all_is_shown_and_taken_in_the_members_language(
    chat: ConsoleChat, lang: str, word: str
) -> None:
    """A member reading Spanish is told `!faq show … todo`, not English `all`, and
    `!faq show … todo` / `!faq list todo` do what `all` does (English still works)."""
    await chat.say(f"!lang {lang}", as_="bob")
    out = await chat.say("!faq show attend-meeting", as_="bob")
    assert f"`!faq show attend-meeting {word}`" in out and "attend-meeting all`" not in out, out
    entry = faq_service(chat).kb.get("attend-meeting")
    assert entry is not None and entry.near_misses[0] not in out
    out = await chat.say(f"!faq show attend-meeting {word}", as_="bob")
    assert entry.near_misses[0] in out and entry.alternates[0] in out, out
    listed = await chat.say(f"!faq list {word}", as_="bob")
    assert listed == await chat.say("!faq list all", as_="bob")
    assert "attend-meeting" in listed, listed
