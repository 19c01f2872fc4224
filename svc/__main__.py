from svc.cli import main

main()
