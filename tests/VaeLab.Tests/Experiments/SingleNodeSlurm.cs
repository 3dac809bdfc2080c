using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace VaeLab.Tests.Experiments;

/// <summary>
/// A real single-node Slurm for the tests, from Debian's packages (munge, slurmctld, slurmd, slurm-client,
/// slurm-wlm-basic-plugins): munged, slurmctld and slurmd started in the foreground by this process from a key and a
/// configuration in a temporary folder (<c>SLURM_CONF</c>, node = <c>hostname -s</c>, CPUs and memory of this machine,
/// no accounting), and stopped by process id on dispose, leaving nothing behind. Needs root (the daemons run as root).
/// </summary>
public sealed class SingleNodeSlurm : IDisposable
{
    static readonly string[] Programs = ["mungekey", "munged", "slurmctld", "slurmd", "sbatch", "squeue", "scontrol", "scancel", "sinfo"];
    readonly TempDirectory folder = new();
    readonly List<Process> daemons = [];

    /// <summary>Starts the daemons and waits until the node is idle.</summary>
    /// <exception cref="InvalidOperationException">Not root, a program missing, or the node never came up (the logs are quoted).</exception>
    public SingleNodeSlurm()
    {
        try
        {
            Start();
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    /// <summary>The folder holding the key, the configuration, the state and the logs.</summary>
    public string Folder => folder.Path;

    /// <summary>The configuration file; every Slurm command needs it as <c>SLURM_CONF</c>.</summary>
    public string Configuration => folder.File("slurm.conf");

    void Start()
    {
        string? missing = string.Join(", ", Programs.Where(p => Which(p) is null));
        if (missing.Length > 0)
            throw new InvalidOperationException($"Slurm tests need {missing} on the PATH: install Debian's packages munge slurmctld slurmd slurm-client slurm-wlm-basic-plugins (.ci/run does).");
        if (Run("id", "-u").Output.Trim() != "0")
            throw new InvalidOperationException("Slurm tests start munged, slurmctld and slurmd as root; run them as root (CI does) or leave out the category: --filter \"Category!=Slurm\".");

        string host = Run("hostname", "-s").Output.Trim();
        foreach (string sub in new[] { "state", "spool" }) Directory.CreateDirectory(folder.File(sub));
        string key = folder.File("munge.key"), socket = folder.File("munge.socket");
        Check(Run(Which("mungekey")!, "--create", "--keyfile=" + key), "mungekey");
        daemons.Add(Daemon(Which("munged")!, "--foreground", "--force", "--key-file=" + key, "--socket=" + socket,
            "--pid-file=" + folder.File("munged.pid"), "--log-file=" + folder.File("munged.log"), "--seed-file=" + folder.File("munged.seed")));
        WaitFor(() => File.Exists(socket), TimeSpan.FromSeconds(20), "munged to open its socket", "munged.log");

        long memoryMb = File.ReadLines("/proc/meminfo").Where(l => l.StartsWith("MemTotal:", StringComparison.Ordinal))
            .Select(l => long.Parse(l.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) / 1024).First() * 8 / 10;
        int controllerPort = FreePort(), nodePort = FreePort();
        File.WriteAllText(Configuration, string.Join('\n',
            "ClusterName=vaelabtest",
            $"SlurmctldHost={host}(127.0.0.1)",
            "SlurmUser=root", "SlurmdUser=root",
            "AuthType=auth/munge", $"AuthInfo=socket={socket}", "CredType=cred/munge",
            "ProctrackType=proctrack/linuxproc", "TaskPlugin=task/none",
            "SelectType=select/cons_tres", "SelectTypeParameters=CR_Core_Memory",
            "AccountingStorageType=accounting_storage/none", "JobAcctGatherType=jobacct_gather/none", "JobCompType=jobcomp/none",
            "SchedulerType=sched/backfill", "MpiDefault=none", "ReturnToService=2", "MinJobAge=3600",
            $"SlurmctldPort={controllerPort}", $"SlurmdPort={nodePort}",
            $"StateSaveLocation={folder.File("state")}", $"SlurmdSpoolDir={folder.File("spool")}",
            $"SlurmctldPidFile={folder.File("slurmctld.pid")}", $"SlurmdPidFile={folder.File("slurmd.pid")}",
            $"SlurmctldLogFile={folder.File("slurmctld.log")}", $"SlurmdLogFile={folder.File("slurmd.log")}",
            $"NodeName={host} NodeAddr=127.0.0.1 CPUs={Environment.ProcessorCount} RealMemory={memoryMb} State=UNKNOWN",
            "PartitionName=main Nodes=ALL Default=YES MaxTime=INFINITE State=UP", ""));
        daemons.Add(Daemon(Which("slurmctld")!, "-D", "-i", "-f", Configuration));
        WaitFor(() => Slurm("sinfo", "-h").ExitCode == 0, TimeSpan.FromSeconds(30), "slurmctld to answer", "slurmctld.log");
        daemons.Add(Daemon(Which("slurmd")!, "-D", "-f", Configuration));
        WaitFor(() => Slurm("sinfo", "-h", "-o", "%T").Output.Trim() == "idle", TimeSpan.FromSeconds(60), "the node to be idle", "slurmd.log");
    }

    /// <summary>Runs a Slurm client (or any program) with <c>SLURM_CONF</c> set, in <paramref name="workingDirectory"/>.</summary>
    public (int ExitCode, string Output) Slurm(string program, params string[] arguments) => Run(program, arguments, Configuration);

    /// <summary>Runs a program with <c>SLURM_CONF</c> set in <paramref name="workingDirectory"/>.</summary>
    public (int ExitCode, string Output) RunIn(string workingDirectory, string program, params string[] arguments) => Run(program, arguments, Configuration, workingDirectory);

    /// <summary>Waits until none of <paramref name="jobs"/> is in the queue.</summary>
    public void WaitUntilGone(IEnumerable<string> jobs, TimeSpan timeout)
    {
        string list = string.Join(',', jobs);
        WaitFor(() =>
        {
            var (exitCode, output) = Slurm("squeue", "-h", "-j", list);
            return exitCode == 0 ? output.Trim().Length == 0 : output.Contains("Invalid job id", StringComparison.Ordinal);   // forgotten: long gone
        }, timeout, $"jobs {list} to leave the queue", "slurmctld.log");
    }

    /// <summary>The state of a finished or running job, e.g. COMPLETED or CANCELLED (scontrol: there is no accounting).</summary>
    public string JobState(string job)
    {
        string text = Slurm("scontrol", "show", "job", job).Output;
        int at = text.IndexOf("JobState=", StringComparison.Ordinal);
        return at < 0 ? "UNKNOWN" : text[(at + 9)..].Split(' ', '\n')[0];
    }

    void WaitFor(Func<bool> condition, TimeSpan timeout, string what, string log)
    {
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            if (clock.Elapsed > timeout)
            {
                string tail = File.Exists(folder.File(log)) ? string.Join('\n', File.ReadLines(folder.File(log)).TakeLast(30)) : "(no log)";
                throw new InvalidOperationException($"Waited {timeout.TotalSeconds:F0} s for {what}; {log}:\n{tail}");
            }
            Thread.Sleep(200);
        }
    }

    static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    static string? Which(string program) =>
        new[] { "/usr/sbin", "/usr/bin", "/sbin", "/bin" }.Concat((Environment.GetEnvironmentVariable("PATH") ?? "").Split(':'))
            .Select(d => Path.Combine(d, program)).FirstOrDefault(File.Exists);

    static void Check((int ExitCode, string Output) result, string what)
    {
        if (result.ExitCode != 0) throw new InvalidOperationException($"{what} exited {result.ExitCode}: {result.Output}");
    }

    Process Daemon(string program, params string[] arguments)
    {
        var start = new ProcessStartInfo(program, arguments) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.Environment["SLURM_CONF"] = Configuration;
        var process = Process.Start(start)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    static (int ExitCode, string Output) Run(string program, params string[] arguments) => Run(program, arguments, null);

    static (int ExitCode, string Output) Run(string program, string[] arguments, string? configuration, string? workingDirectory = null)
    {
        var start = new ProcessStartInfo(Which(program) ?? program, arguments) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        if (workingDirectory is not null) start.WorkingDirectory = workingDirectory;
        if (configuration is not null) start.Environment["SLURM_CONF"] = configuration;
        using var process = Process.Start(start)!;
        var error = process.StandardError.ReadToEndAsync();
        string output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, output + error.Result);
    }

    /// <summary>Stops slurmd, slurmctld and munged (by process id, children included) and deletes the folder.</summary>
    public void Dispose()
    {
        for (int i = daemons.Count - 1; i >= 0; i--)
        {
            try
            {
                if (!daemons[i].HasExited) daemons[i].Kill(entireProcessTree: true);
                daemons[i].WaitForExit(10_000);
            }
            catch (InvalidOperationException) { }
            daemons[i].Dispose();
        }
        daemons.Clear();
        folder.Dispose();
    }
}
