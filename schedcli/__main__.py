from schedcli.cli import main

main()
