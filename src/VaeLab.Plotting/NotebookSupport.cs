using System.Reflection;

namespace VaeLab.Plotting;

/// <summary>
/// Makes Plotly.NET work inside the .NET Interactive kernels (Polyglot Notebooks, dotnet-repl, Jupyter).
/// </summary>
/// <remarks>
/// Plotly.NET 6 is compiled against FSharp.Core 10.1, while the kernels (dotnet-interactive 1.0.712001,
/// dotnet-repl 0.3.259) have FSharp.Core 10.0 loaded already. A second FSharp.Core beside it gives two copies of
/// every F# type and charts fail (MissingMethodException in Plotly.NET's defaults); none gives
/// FileNotFoundException. So this project's own output folder — the one notebooks reference — carries no
/// FSharp.Core.dll (see the csproj), and <see cref="UseHostFSharpCore"/> hands the kernel's copy to any request
/// for FSharp.Core. Call it in the notebook's first cell, before any chart is made. Nothing here touches an F#
/// type, so calling it cannot itself load FSharp.Core.
/// </remarks>
public static class NotebookSupport
{
    static int registered;

    /// <summary>
    /// The one call a notebook's first cell makes: Plotly.NET on the kernel's FSharp.Core, then
    /// <see cref="VaeLab.Runtime.TorchRuntime.Initialize"/> (natives, threads, seed).
    /// </summary>
    public static VaeLab.Runtime.RuntimeInfo Prepare(long seed = 1, int threads = 0, string device = "cpu")
    {
        UseHostFSharpCore();
        return VaeLab.Runtime.TorchRuntime.Initialize(seed, threads, device);
    }

    /// <summary>Answers every request for FSharp.Core with the copy already loaded; returns its version (null if none is loaded yet).</summary>
    public static Version? UseHostFSharpCore()
    {
        if (Interlocked.Exchange(ref registered, 1) == 0)
            AppDomain.CurrentDomain.AssemblyResolve += (_, request) =>
                new AssemblyName(request.Name).Name == "FSharp.Core" ? LoadedFSharpCore() : null;
        return LoadedFSharpCore()?.GetName().Version;
    }

    static int plotlyEmitted;

    /// <summary>
    /// HTML that draws <paramref name="chart"/> in a notebook cell: <c>display(HTML(NotebookSupport.ChartHtml(chart)))</c>.
    /// The first call of a session also carries plotly.js itself (no CDN: the notebook works offline).
    /// </summary>
    public static string ChartHtml(Plotly.NET.GenericChart chart) => PlotlyScriptOnce() + Plotly.NET.GenericChart.toChartHTML(chart);

    /// <summary>Makes the next <see cref="PlotlyScriptOnce"/> carry plotly.js again (a notebook session starting over).</summary>
    public static void ResetPlotlyScript() => Interlocked.Exchange(ref plotlyEmitted, 0);

    /// <summary>A script element holding plotly.js the first time it is asked for (since the last reset), then the empty string.</summary>
    public static string PlotlyScriptOnce() =>
        Interlocked.Exchange(ref plotlyEmitted, 1) == 0 ? "<script type=\"text/javascript\">" + PlotlyScript.Source + "</script>" : "";

    static Assembly? LoadedFSharpCore() =>
        AppDomain.CurrentDomain.GetAssemblies().FirstOrDefault(a => a.GetName().Name == "FSharp.Core");
}
