from fieldexp.cli import main

raise SystemExit(main())
