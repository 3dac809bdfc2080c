using System.CommandLine;
using VaeLab.Experiments;

namespace VaeLab.Cli.Commands;

/// <summary><c>vaelab merge</c>: combine the result folders of a sweep's shards into one.</summary>
internal static class MergeCommand
{
    public static Command Create()
    {
        var output = new Option<string>("--out") { Description = "The combined results folder.", DefaultValueFactory = _ => "results" };
        var sources = new Argument<string[]>("stores") { Description = "Result folders written by shards.", Arity = ArgumentArity.OneOrMore };
        var command = new Command("merge", "Combine sweep result folders (e.g. one per shard) into one; a run present in several must agree.")
        {
            output, sources,
        };
        command.SetAction(parse =>
        {
            var target = new ResultStore(parse.GetValue(output)!);
            foreach (string source in parse.GetValue(sources)!)
            {
                if (!Directory.Exists(Path.Combine(source, "runs")))
                    throw new DirectoryNotFoundException($"'{source}' is not a results folder (it has no runs/ folder).");
                int added = target.MergeFrom(new ResultStore(source));
                Console.WriteLine($"{source}: {added} run(s) added");
            }
            Console.WriteLine($"{target.Load().Count} run(s) in {target.Folder}");
            return 0;
        });
        return command;
    }
}
