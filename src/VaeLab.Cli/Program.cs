using System.CommandLine;
using VaeLab.Cli;
using VaeLab.Cli.Commands;

var root = new RootCommand("vaelab: variational auto-encoders on TorchSharp — train, sweep, check the ELBO derivation, report, benchmark.");
root.Subcommands.Add(TrainCommand.Create());
root.Subcommands.Add(ReportCommand.Create());
root.Subcommands.Add(SweepCommand.Create());
root.Subcommands.Add(MergeCommand.Create());
root.Subcommands.Add(SlurmCommand.Create());
root.Subcommands.Add(CheckCommand.Create());
root.Subcommands.Add(GapCommand.Create());
root.Subcommands.Add(InfoCommand.Create());
root.Subcommands.Add(BenchCommand.Create());

// Tables in files and pipes are read later by people: give them room rather than the 80-column default.
if (Console.IsOutputRedirected) Spectre.Console.AnsiConsole.Profile.Width = 140;

try
{
    ParseResult parse = root.Parse(args);
    if (parse.Errors.Count > 0)
    {
        // One clear line per problem and the way to the help, rather than the whole help text.
        foreach (var problem in parse.Errors) Console.Error.WriteLine($"vaelab: error: {problem.Message}");
        Console.Error.WriteLine($"see: vaelab {string.Join(' ', args.TakeWhile(a => !a.StartsWith('-')))} --help".Replace("  ", " "));
        return 2;
    }
    return await parse.InvokeAsync(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
}
catch (Exception error) when (UserErrors.IsUserError(error))
{
    // Bad input (an option, a file, a device): one clear line, no stack trace, exit code 2.
    Console.Error.WriteLine($"vaelab: error: {error.Message}");
    return 2;
}
