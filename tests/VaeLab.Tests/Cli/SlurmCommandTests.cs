using System.Diagnostics;
using System.Text.RegularExpressions;

namespace VaeLab.Tests.Cli;

/// <summary><c>vaelab slurm</c>: the docs show what the command writes, and bad input is one clear line.</summary>
public class SlurmCommandTests
{
    static readonly string Vaelab = Path.Combine(RepositoryPaths.Root, "src", "VaeLab.Cli", "bin", RepositoryPaths.Configuration, "net10.0", "vaelab.dll");

    static (int Code, string Output, string Error) Run(string workingDirectory, params string[] arguments)
    {
        var start = new ProcessStartInfo("dotnet", [Vaelab, .. arguments]) { WorkingDirectory = workingDirectory, RedirectStandardOutput = true, RedirectStandardError = true };
        using Process process = Process.Start(start)!;
        var error = process.StandardError.ReadToEndAsync();
        string output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, output, error.Result);
    }

    [Fact]
    public void TheScriptInTheDocsIsWhatTheCommandWrites()
    {
        string docs = File.ReadAllText(Path.Combine(RepositoryPaths.Root, "docs", "distributed-sweeps.md"));
        Match command = Regex.Match(docs, @"```bash\n(vaelab slurm [^\n]*)\n```");
        Assert.True(command.Success, "docs/distributed-sweeps.md shows no `vaelab slurm …` command in a bash block");
        Match script = Regex.Match(docs, @"```bash\n(#!/usr/bin/env bash\n.*?)```", RegexOptions.Singleline);
        Assert.True(script.Success, "docs/distributed-sweeps.md shows no generated script");
        var (code, output, error) = Run(RepositoryPaths.Root, command.Groups[1].Value.Split(' ')[1..]);
        Assert.True(code == 0, error);
        Assert.Equal(output, script.Groups[1].Value);
    }

    [Theory]
    [InlineData("--shards 0", "--shards 0")]
    [InlineData("--shards 601", "--shards 601")]
    [InlineData("--mem lots", "--mem 'lots'")]
    public void BadSettingsAreOneClearLineAndExitCodeTwo(string settings, string named)
    {
        var (code, _, error) = Run(RepositoryPaths.Root, ["slurm", "--spec", "docs/examples/sweep.json", .. settings.Split(' ')]);
        Assert.Equal(2, code);
        Assert.StartsWith("vaelab: error: ", error);
        Assert.Contains(named, error.Split('\n')[0]);
    }

    [Fact]
    public void ASpecThatDoesNotParseOrAFolderOfAnotherSpecIsRefused()
    {
        using var folder = new TempDirectory();
        File.WriteAllText(folder.File("broken.json"), "{ \"latentSizes\": [2], \"betas\": ");
        var (code, _, error) = Run(folder.Path, "slurm", "--spec", "broken.json");
        Assert.Equal(2, code);
        Assert.Contains("broken.json", error.Split('\n')[0]);

        // A results folder holding a run of another sweep.
        File.WriteAllText(folder.File("one.json"), "{ \"latentSizes\": [2], \"betas\": [1], \"seeds\": [0], \"epochs\": 1, \"data\": \"Shapes\", \"trainExamples\": 200, \"testExamples\": 50, \"importanceSamples\": 0 }");
        File.WriteAllText(folder.File("two.json"), "{ \"latentSizes\": [3], \"betas\": [1], \"seeds\": [0], \"epochs\": 1, \"data\": \"Shapes\", \"trainExamples\": 200, \"testExamples\": 50, \"importanceSamples\": 0 }");
        var sweep = Run(folder.Path, "sweep", "--spec", "one.json", "--out", "results", "--threads", "1");
        Assert.True(sweep.Code == 0, sweep.Error);
        Assert.Equal(0, Run(folder.Path, "slurm", "--spec", "one.json", "--shards", "1", "--out", "results").Code);
        (code, _, error) = Run(folder.Path, "slurm", "--spec", "two.json", "--shards", "1", "--out", "results");
        Assert.Equal(2, code);
        Assert.Contains("not in this sweep", error.Split('\n')[0]);
    }
}
