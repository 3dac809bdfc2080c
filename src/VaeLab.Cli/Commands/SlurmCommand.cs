using System.CommandLine;
using System.Text;
using VaeLab.Experiments;
using VaeLab.IO;

namespace VaeLab.Cli.Commands;

/// <summary>
/// <c>vaelab slurm</c>: write the Slurm submission of a sharded sweep — a job array over <c>vaelab sweep --shard</c> and
/// a merge job after it that writes results.csv and the report (<see cref="SlurmJob"/>).
/// </summary>
internal static class SlurmCommand
{
    public static Command Create()
    {
        var spec = new Option<string>("--spec") { Description = "The sweep JSON file (as the jobs will see it; relative to the folder you submit from).", Required = true };
        var shards = new Option<int>("--shards") { Description = "Array tasks, one shard of the sweep each (1 to the number of runs).", DefaultValueFactory = _ => 4 };
        var output = new Option<string>("--out") { Description = "The merged results folder; shards go to <out>/shards/shard-i, Slurm logs to <out>/slurm.", DefaultValueFactory = _ => "results" };
        var cpus = new Option<int>("--cpus-per-task") { Description = "CPUs per array task (vaelab's threads).", DefaultValueFactory = _ => 2 };
        var memory = new Option<string>("--mem") { Description = "Memory per task, e.g. 4G.", DefaultValueFactory = _ => "4G" };
        var time = new Option<string>("--time") { Description = "Time limit per task, e.g. 04:00:00.", DefaultValueFactory = _ => "04:00:00" };
        var partition = new Option<string?>("--partition") { Description = "Slurm partition (default: the cluster's)." };
        var account = new Option<string?>("--account") { Description = "Slurm account to charge." };
        var vaelab = new Option<string?>("--vaelab") { Description = "How a node starts vaelab (default: dotnet with this build's vaelab.dll, relative to the current folder when inside it)." };
        var script = new Option<string?>("--script") { Description = "Write the script to this file instead of printing it." };
        var command = new Command("slurm", "Write the Slurm submission of a sweep: a job array of --shards tasks (vaelab sweep --shard i/n) and a merge job that runs after all of them succeeded and writes results.csv and report.html. Submit with bash.")
        {
            spec, shards, output, cpus, memory, time, partition, account, vaelab, script,
        };
        command.SetAction(parse =>
        {
            string specPath = parse.GetValue(spec)!, results = parse.GetValue(output)!.TrimEnd('/');
            SweepSpec sweep = SweepSpec.Load(specPath);
            IReadOnlyList<RunConfig> runs = sweep.Configurations();
            var job = new SlurmJob(specPath, results, parse.GetValue(shards), parse.GetValue(vaelab) ?? DefaultVaelab(),
                parse.GetValue(cpus), parse.GetValue(memory)!, parse.GetValue(time)!, parse.GetValue(partition), parse.GetValue(account));
            job.Validate(runs.Count);
            RefuseForeignResults(results, runs);
            string text = job.Script($"{runs.Count} runs of {specPath}");
            if (parse.GetValue(script) is string path)
            {
                AtomicFile.WriteAllBytes(path, Encoding.UTF8.GetBytes(text));
                Console.Error.WriteLine($"wrote {path}: submit with `bash {path}`");
            }
            else Console.Write(text);
            return 0;
        });
        return command;
    }

    // dotnet and this build's vaelab.dll, relative to the current folder when it lies inside it (the docs' form).
    static string DefaultVaelab()
    {
        string dll = Path.Combine(AppContext.BaseDirectory, "vaelab.dll");
        string relative = Path.GetRelativePath(Directory.GetCurrentDirectory(), dll);
        return "dotnet " + (relative.StartsWith("..", StringComparison.Ordinal) || Path.IsPathRooted(relative) ? dll : relative.Replace('\\', '/'));
    }

    // A results folder is for one sweep: rows of runs the spec does not have mean another spec wrote there.
    static void RefuseForeignResults(string results, IReadOnlyList<RunConfig> runs)
    {
        var expected = runs.Select(r => r.Id).ToHashSet(StringComparer.Ordinal);
        var folders = new List<string> { results };
        string shardsFolder = Path.Combine(results, "shards");
        if (Directory.Exists(shardsFolder)) folders.AddRange(Directory.GetDirectories(shardsFolder));
        foreach (string folder in folders.Where(f => Directory.Exists(Path.Combine(f, "runs"))))
        {
            string? foreign = new ResultStore(folder).Load().Select(r => r.RunId).FirstOrDefault(id => !expected.Contains(id));
            if (foreign is not null)
                throw new ArgumentException($"--out '{results}': '{folder}' holds run {foreign}, which is not in this sweep; use another results folder for another spec.");
        }
    }
}
