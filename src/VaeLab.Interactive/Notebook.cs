using System.Runtime.CompilerServices;
using Microsoft.DotNet.Interactive;

namespace VaeLab.Interactive;

/// <summary>
/// What a VaeLab notebook calls: <see cref="Prepare"/> in its first cell, <see cref="Section"/> to start a part of the
/// report, and <see cref="WriteReport"/> in its last cell. Everything shown through VaeLab's formatters in between is
/// collected, so the report holds each chart and table exactly as the notebook showed it.
/// </summary>
public static class Notebook
{
    /// <summary>True when VAELAB_QUICK=1: notebooks then use small data and few epochs (tests, a first look).</summary>
    public static bool Quick => Environment.GetEnvironmentVariable("VAELAB_QUICK") == "1";

    /// <summary>
    /// The one start-up call: FSharp.Core for Plotly.NET from the kernel, the torch natives from the VaeLab build, the
    /// number of threads and the global seed; starts a new report. Works in the same cell as the package's <c>#r</c>.
    /// </summary>
    /// <param name="seed">Seed of torch's global generator.</param>
    /// <param name="threads">Intra-op threads; 0: one per logical processor.</param>
    /// <param name="device">"cpu", "cuda", "cuda:N" or "auto".</param>
    public static NotebookSession Prepare(long seed = 1, int threads = 0, string device = "cpu")
    {
        BuildOutput.MakeResolvable();   // before any VaeLab type is touched (the next method's are)
        return PrepareWithVaeLab(seed, threads, device);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    static NotebookSession PrepareWithVaeLab(long seed, int threads, string device)
    {
        Kernel? kernel = KernelInvocationContext.Current?.HandlingKernel?.RootKernel;
        if (kernel is not null) VaeLabExtension.Load(kernel);
        else VaeLab.Plotting.NotebookSupport.UseHostFSharpCore();
        var runtime = VaeLab.Runtime.TorchRuntime.Initialize(seed, threads, device);
        SessionReport.Clear();
        VaeLab.Plotting.NotebookSupport.ResetPlotlyScript();   // this cell's output carries plotly.js again (a rerun notebook is self-contained)
        return new NotebookSession(runtime, seed, Quick) { Build = BuildOutput.Folder, BuildNote = BuildOutput.CheckoutNote(Environment.CurrentDirectory) };
    }

    /// <summary>Shows a heading and starts a section of the report with it.</summary>
    public static void Section(string title)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(title);
        SessionReport.StartSection(title);
        KernelInvocationContext.Current?.Display(new SectionHeading(title), "text/html");
    }

    /// <summary>
    /// Writes what this session showed through VaeLab's formatters (every chart and table, in order, under its section) as
    /// one self-contained HTML file that opens offline; returns where it went.
    /// </summary>
    /// <param name="path">The HTML file (written whole, via a temporary file: never half-written).</param>
    /// <param name="title">The report's title.</param>
    /// <exception cref="InvalidOperationException">Nothing was shown yet.</exception>
    public static WrittenReport WriteReport(string path, string title)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        ArgumentException.ThrowIfNullOrWhiteSpace(title);
        return SessionReport.Write(Path.GetFullPath(path), title);
    }
}

/// <summary>What <see cref="Notebook.Prepare"/> set up: shown as the runtime table.</summary>
/// <param name="Runtime">Versions, threads, device and natives.</param>
/// <param name="Seed">The global seed.</param>
/// <param name="Quick">Whether VAELAB_QUICK=1 (small and fast).</param>
public sealed record NotebookSession(VaeLab.Runtime.RuntimeInfo Runtime, long Seed, bool Quick)
{
    /// <summary>The VaeLab build output the session runs (the last build of any checkout installs the package).</summary>
    public string Build { get; init; } = "";

    /// <summary>A warning when that build is not of the checkout the notebook lies in; null otherwise.</summary>
    public string? BuildNote { get; init; }
}

/// <summary>A section heading, shown in the notebook and starting a section of the report.</summary>
/// <param name="Title">The heading.</param>
public sealed record SectionHeading(string Title);

/// <summary>Where <see cref="Notebook.WriteReport"/> wrote the report, and what it holds.</summary>
/// <param name="Path">The HTML file.</param>
/// <param name="Sections">Sections written.</param>
/// <param name="Items">Charts and tables written.</param>
/// <param name="Bytes">Size of the file.</param>
public sealed record WrittenReport(string Path, int Sections, int Items, long Bytes);
