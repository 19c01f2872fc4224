from svc.boot import main

main()
