using VaeLab.Runtime;
using Spectre.Console;
using VaeLab.Experiments;

namespace VaeLab.Cli;

/// <summary>
/// Shows a sweep's progress: on a terminal a bar with the time remaining and the log lines above it; in a file
/// or pipe plain lines only.
/// </summary>
internal static class SweepDisplay
{
    public static T Run<T>(Func<IProgress<string>, IProgress<SweepProgress>?, T> work)
    {
        if (Console.IsOutputRedirected || !AnsiConsole.Profile.Capabilities.Interactive)
            return work(new SynchronousProgress<string>(Console.WriteLine), null);
        T result = default!;
        AnsiConsole.Progress()
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
            .Start(context =>
            {
                ProgressTask task = context.AddTask("sweep", maxValue: 1);
                result = work(new SynchronousProgress<string>(line => AnsiConsole.MarkupLine(Markup.Escape(line))), new SynchronousProgress<SweepProgress>(p =>
                {
                    task.Value = Math.Min(p.Fraction, 1);
                    task.Description = p.Training is { } t ? $"run {p.Run}/{p.Runs}, epoch {t.Epoch}/{t.Epochs}" : $"run {p.Run}/{p.Runs} done";
                }));
                task.Value = 1;
            });
        return result;
    }
}
