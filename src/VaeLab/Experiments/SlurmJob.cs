using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace VaeLab.Experiments;

/// <summary>What a Slurm submission of a sharded sweep asks for, and where it reads and writes.</summary>
/// <param name="SpecPath">The sweep JSON file, as the jobs will see it (relative paths resolve in the submission directory).</param>
/// <param name="ResultsFolder">The merged results folder; shards write to <c>shards/shard-i</c> inside it and logs to <c>slurm/</c>.</param>
/// <param name="Shards">Array tasks, one shard each.</param>
/// <param name="VaelabCommand">How a node starts vaelab, e.g. <c>dotnet src/VaeLab.Cli/bin/Release/net10.0/vaelab.dll</c>.</param>
/// <param name="CpusPerTask">CPUs per array task (also vaelab's thread count).</param>
/// <param name="Memory">Memory per task in Slurm's notation, e.g. 4G.</param>
/// <param name="Time">Time limit per task, e.g. 04:00:00.</param>
/// <param name="Partition">Partition, or null for the cluster's default.</param>
/// <param name="Account">Account to charge, or null.</param>
public sealed record SlurmJob(string SpecPath, string ResultsFolder, int Shards, string VaelabCommand,
    int CpusPerTask = 2, string Memory = "4G", string Time = "04:00:00", string? Partition = null, string? Account = null)
{
    /// <summary>The folder of shard i's results inside <see cref="ResultsFolder"/>.</summary>
    public string ShardFolder(int index) => $"{ResultsFolder}/shards/shard-{index.ToString(CultureInfo.InvariantCulture)}";

    /// <summary>Checks the settings against the sweep, naming the first one that is wrong.</summary>
    /// <exception cref="ArgumentException">Fewer than 1 shard or more shards than runs, bad resources, or names Slurm would misread.</exception>
    public void Validate(int runs)
    {
        if (Shards < 1 || Shards > runs)
            throw new ArgumentException($"--shards {Shards}: must be between 1 and the number of runs in the sweep ({runs}); a shard without runs would only wait for a node.");
        if (CpusPerTask < 1) throw new ArgumentException($"--cpus-per-task {CpusPerTask}: must be at least 1.");
        if (!Regex.IsMatch(Memory, "^[0-9]+[KMGT]?$")) throw new ArgumentException($"--mem '{Memory}': expected a number with an optional unit K, M, G or T, e.g. 4G.");
        if (!Regex.IsMatch(Time, "^([0-9]+-)?[0-9]+(:[0-9]{2}){0,2}$")) throw new ArgumentException($"--time '{Time}': expected minutes, [days-]hours:minutes:seconds or similar, e.g. 04:00:00.");
        foreach (var (name, value) in new[] { ("--partition", Partition), ("--account", Account) })
            if (value is not null && !Regex.IsMatch(value, "^[A-Za-z0-9_.-]+$")) throw new ArgumentException($"{name} '{value}': letters, digits, '_', '.' and '-' only.");
        foreach (var (name, value) in new[] { ("--spec", SpecPath), ("--out", ResultsFolder) })
            if (value.Length == 0 || value.IndexOfAny(['\'', '"', '\n', '$', '`', '\\']) >= 0)
                throw new ArgumentException($"{name} '{value}': a path without quotes, '$', '`' or backslashes is needed inside the job script.");
    }

    /// <summary>
    /// The submission script (bash): <c>sbatch</c> of a job array of <see cref="Shards"/> tasks, each running
    /// <c>vaelab sweep --shard $SLURM_ARRAY_TASK_ID/$SLURM_ARRAY_TASK_COUNT</c> into its own folder, then <c>sbatch</c> of a
    /// merge job with <c>--dependency=afterok</c> on the whole array that merges the shards and writes results.csv and
    /// report.html. afterok, not afterany: a merged table is written only when every shard finished, so a table is never
    /// silently partial; if a task fails or is cancelled, <c>--kill-on-invalid-dep=yes</c> removes the merge job instead of
    /// leaving it pending forever, and running the same script again finishes the job (finished runs are skipped,
    /// interrupted ones resume from their checkpoints).
    /// </summary>
    public string Script(string specDescription)
    {
        string Directives(string name, bool array)
        {
            var lines = new StringBuilder();
            lines.Append("#!/bin/bash\n");
            lines.Append($"#SBATCH --job-name={name}\n");
            if (array) lines.Append($"#SBATCH --array=0-{(Shards - 1).ToString(CultureInfo.InvariantCulture)}\n");
            lines.Append($"#SBATCH --cpus-per-task={(array ? CpusPerTask : 1).ToString(CultureInfo.InvariantCulture)}\n");
            lines.Append($"#SBATCH --mem={Memory}\n");
            lines.Append($"#SBATCH --time={Time}\n");
            if (Partition is not null) lines.Append($"#SBATCH --partition={Partition}\n");
            if (Account is not null) lines.Append($"#SBATCH --account={Account}\n");
            lines.Append($"#SBATCH --output={ResultsFolder}/slurm/{(array ? "shard-%a-%A" : "merge-%j")}.out\n");
            return lines.ToString();
        }

        return $$"""
            #!/usr/bin/env bash
            # A sharded VaeLab sweep on Slurm, written by `vaelab slurm`: {{specDescription}}, {{Shards.ToString(CultureInfo.InvariantCulture)}} shard(s).
            # Submit from the folder the paths are relative to: `bash this-script`. Running it again after a failure
            # finishes the job: finished runs are skipped, interrupted ones resume from their checkpoints.
            set -euo pipefail
            mkdir -p '{{ResultsFolder}}/slurm'

            # One array task per shard, each into its own results folder.
            array=$(sbatch --parsable <<'SHARD'
            {{Directives("vaelab-sweep", array: true)}}set -euo pipefail
            exec {{VaelabCommand}} sweep --spec '{{SpecPath}}' --shard "$SLURM_ARRAY_TASK_ID/$SLURM_ARRAY_TASK_COUNT" \
              --out '{{ResultsFolder}}/shards/shard-'"$SLURM_ARRAY_TASK_ID" --threads "$SLURM_CPUS_PER_TASK"
            SHARD
            )
            array=${array%%;*}

            # The merge, only once every shard finished (afterok); removed if one failed or was cancelled.
            merge=$(sbatch --parsable --dependency=afterok:"$array" --kill-on-invalid-dep=yes <<'MERGE'
            {{Directives("vaelab-merge", array: false)}}set -euo pipefail
            {{VaelabCommand}} merge --out '{{ResultsFolder}}' '{{ResultsFolder}}'/shards/shard-*
            exec {{VaelabCommand}} report --spec '{{SpecPath}}' --out '{{ResultsFolder}}' --no-checks --threads 1
            MERGE
            )
            merge=${merge%%;*}
            echo "submitted: array job $array ({{Shards.ToString(CultureInfo.InvariantCulture)}} shard(s)), merge job $merge (after every shard succeeded)"

            """;
    }
}
