using System.CommandLine;
using VaeLab.Cli.Commands;

var root = new RootCommand("vaelab: variational auto-encoders on TorchSharp — train, sweep, check the ELBO derivation, report, benchmark.");
root.Subcommands.Add(InfoCommand.Create());
root.Subcommands.Add(BenchCommand.Create());
return await root.Parse(args).InvokeAsync();
