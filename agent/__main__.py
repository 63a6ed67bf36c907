from tierchem.agent.cli import main
main()
