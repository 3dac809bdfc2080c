using System.CommandLine;
using System.Globalization;
using Spectre.Console;
using VaeLab.Benchmarks;
using VaeLab.Runtime;

namespace VaeLab.Cli.Commands;

/// <summary><c>vaelab bench</c>: performance figures measured side by side in one process.</summary>
internal static class BenchCommand
{
    public static Command Create()
    {
        var threads = CommonOptions.Threads();
        var data = CommonOptions.Data();
        var repeats = new Option<int>("--repeats") { Description = "Timed runs of each measurement.", DefaultValueFactory = _ => 7 };
        var command = new Command("bench", "Measure performance: IDX load time (Fashion-MNIST training images into float32 tensors).")
        {
            threads, data, repeats,
        };
        command.SetAction(parse =>
        {
            RuntimeInfo info = TorchRuntime.Initialize(seed: 0, threads: parse.GetValue(threads));
            AnsiConsole.MarkupLine($"[grey]TorchSharp {info.TorchSharpVersion}, libtorch {info.LibTorchVersion}, {info.Threads} thread(s), {Markup.Escape(string.Join(" ", info.CpuFeatures))}[/]");
            IdxLoadResult idx = IdxLoadBenchmark.Run(parse.GetValue(repeats), parse.GetValue(data));
            var table = new Table().Border(TableBorder.Rounded).AddColumn("measurement").AddColumn("value");
            string F(double v) => v.ToString("0.000", CultureInfo.InvariantCulture);
            void Row(string name, string value) => table.AddRow(Markup.Escape(name), Markup.Escape(value));
            Row("IDX load: source", idx.Source);
            Row("IDX load: images (with labels)", idx.Images.ToString("N0", CultureInfo.InvariantCulture));
            Row($"IDX load: median of {idx.Repeats} (s)", F(idx.MedianSeconds));
            Row("IDX load: fastest (s)", F(idx.MinSeconds));
            Row("IDX load: file part, median (s)", F(idx.MedianReadSeconds) + "  (read, gunzip, validate)");
            Row("IDX load: tensor part, median (s)", F(idx.MedianSeconds - idx.MedianReadSeconds) + "  (bytes → float32 in [0, 1])");
            Row("IDX load: first load of the process (s)", F(idx.ColdSeconds) + "  (JIT, first touch of the VM's memory)");
            Row("IDX load: plain loader, same process (s)", double.IsNaN(idx.BaselineSeconds) ? "n/a (needs the full set)" : F(idx.BaselineSeconds) + "  (byte[] → float[] loop → torch.tensor)");
            AnsiConsole.Write(table);
            return 0;
        });
        return command;
    }
}
