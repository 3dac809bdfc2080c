using System.CommandLine;
using System.Globalization;
using System.Text;
using Spectre.Console;
using VaeLab.Derivation;
using VaeLab.IO;
using VaeLab.Plotting;
using VaeLab.Runtime;

namespace VaeLab.Cli.Commands;

/// <summary><c>vaelab check</c>: run the numerical checks of the ELBO derivation; exit code 1 if any row fails.</summary>
internal static class CheckCommand
{
    public static Command Create()
    {
        var threads = CommonOptions.Threads();
        var csv = new Option<string?>("--csv") { Description = "Also write the table as CSV to this file." };
        var only = new Option<string[]>("--only") { Description = "Run only these checks (numbers 1 to 12) or rows (ids such as 5.3, as the table's first column shows), e.g. --only 8 9 or --only 5.3.", AllowMultipleArgumentsPerToken = true };
        var html = new Option<string?>("--html") { Description = "Also write the table and the derivation figures as a self-contained HTML page (plotly.js embedded: opens offline) to this file." };
        var command = new Command("check", "Verify the ELBO derivation numerically, step by step (float64): log p(x) = ELBO + KL(q ‖ p(z|x)) and each step before it. Exit code 1 if any check fails.")
        {
            threads, csv, html, only,
        };
        command.SetAction(parse =>
        {
            TorchRuntime.Initialize(seed: 0, threads: parse.GetValue(threads));
            DerivationReport report = DerivationSuite.Run(null, new SynchronousProgress<string>(name => Console.Error.WriteLine($"checking {name} …")), parse.GetValue(only));
            var table = Tables.Create("row", "check", "step", "left", "right", "|difference|", "tolerance", "pass");
            foreach (DerivationRow r in report.Rows)
                table.AddRow(r.Id, Markup.Escape(r.Check), Markup.Escape(r.Step), DerivationReport.Number(r.Left), DerivationReport.Number(r.Right),
                    r.Difference.ToString("G3", CultureInfo.InvariantCulture), r.Tolerance.ToString("G3", CultureInfo.InvariantCulture), r.Pass ? "[green]pass[/]" : "[red]FAIL[/]");
            table.Caption(Markup.Escape($"nats per example unless the step says otherwise; float64; {report.Duration.TotalSeconds:F1} s; methods in the CSV/HTML"));
            AnsiConsole.Write(table);
            if (parse.GetValue(csv) is string csvPath) { AtomicFile.WriteAllBytes(csvPath, Encoding.UTF8.GetBytes(report.ToCsv())); Console.WriteLine($"wrote {csvPath}"); }
            if (parse.GetValue(html) is string htmlPath) { AtomicFile.WriteAllBytes(htmlPath, Encoding.UTF8.GetBytes(DerivationPage.Build(report).ToString())); Console.WriteLine($"wrote {htmlPath}"); }
            int failed = report.Failures.Count();
            Console.WriteLine(failed == 0 ? $"all {report.Rows.Count} rows pass" : $"{failed} of {report.Rows.Count} rows FAIL");
            return failed == 0 ? 0 : 1;
        });
        return command;
    }
}
