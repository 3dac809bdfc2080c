using System.CommandLine;
using Spectre.Console;
using VaeLab.Runtime;

namespace VaeLab.Cli.Commands;

/// <summary><c>vaelab info</c>: the runtime facts (versions, threads, CPU features, CUDA, where the natives were loaded from).</summary>
internal static class InfoCommand
{
    public static Command Create()
    {
        var threads = CommonOptions.Threads();
        var device = CommonOptions.Device();
        var command = new Command("info", "Print the torch runtime facts: versions, threads, CPU features, CUDA, native library paths.")
        {
            threads,
            device,
        };
        command.SetAction(parse =>
        {
            RuntimeInfo info = TorchRuntime.Initialize(seed: 0, threads: parse.GetValue(threads), device: parse.GetValue(device)!);
            Print(info);
            return 0;
        });
        return command;
    }

    static void Print(RuntimeInfo info)
    {
        var table = Tables.Create("fact", "value");
        void Row(string fact, string value) => table.AddPlainRow(fact, value);
        Row("TorchSharp", info.TorchSharpVersion);
        Row("libtorch", info.LibTorchVersion);
        Row("backend package", $"TorchSharp-{info.Backend}");
        Row("threads", $"{info.Threads} (of {info.LogicalProcessors} logical processors)");
        Row("CPU features", info.CpuFeatures.Count == 0 ? "none detected" : string.Join(", ", info.CpuFeatures));
        Row("CUDA available", info.CudaAvailable ? $"yes ({info.CudaDevices} device(s))" : "no");
        Row("device", info.Device);
        Row("TorchSharp.dll folder", info.ManagedDirectory);
        Row("OS", info.Os);
        Row(".NET", info.DotnetVersion);
        AnsiConsole.Write(table);
        // Paths on their own lines, unwrapped, so they can be copied.
        Console.WriteLine("Native libraries loaded:");
        if (info.NativeLibraries.Count == 0) Console.WriteLine("  (this OS does not list them; expected beside TorchSharp.dll)");
        foreach (string path in info.NativeLibraries) Console.WriteLine("  " + path);
    }
}
