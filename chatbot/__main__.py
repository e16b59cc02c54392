from chatbot.runtime.cli import main

raise SystemExit(main())
