using System.Diagnostics;

namespace VaeLab.Tests;

/// <summary>The built vaelab command in a child process, as users run it.</summary>
internal static class VaelabProcess
{
    public static readonly string Dll = Path.Combine(RepositoryPaths.Root, "src", "VaeLab.Cli", "bin", RepositoryPaths.Configuration, "net10.0", "vaelab.dll");

    /// <summary>Starts vaelab with <paramref name="arguments"/>, its output redirected.</summary>
    public static Process Start(params string[] arguments)
    {
        Assert.True(File.Exists(Dll), $"{Dll} is missing: build the solution first");
        return Process.Start(new ProcessStartInfo("dotnet", [Dll, .. arguments]) { RedirectStandardOutput = true, RedirectStandardError = true })!;
    }

    /// <summary>Waits for a started process; its exit code and output.</summary>
    public static async Task<(int Code, string Output, string Error)> Finish(Process process, TimeSpan? limit = null)
    {
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(limit ?? TimeSpan.FromMinutes(3));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await output, await error);
    }

    /// <summary>Runs vaelab to the end.</summary>
    public static async Task<(int Code, string Output, string Error)> Run(params string[] arguments)
    {
        using Process process = Start(arguments);
        return await Finish(process);
    }
}
