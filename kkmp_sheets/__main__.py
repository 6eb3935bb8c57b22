from kkmp_sheets.cli import main

raise SystemExit(main())
