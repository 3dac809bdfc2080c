using Plotly.NET;

namespace VaeLab.Plotting;

/// <summary>plotly.js as Plotly.NET ships it (an embedded resource of Plotly.NET.dll), for pages and notebooks that must work offline.</summary>
internal static class PlotlyScript
{
    /// <summary>The minified plotly.js, safe to place inside a script element.</summary>
    public static string Source => Loaded.Value;

    static readonly Lazy<string> Loaded = new(() =>
    {
        var assembly = typeof(GenericChart).Assembly;
        string name = assembly.GetManifestResourceNames().Single(n => n.EndsWith(".min.js", StringComparison.Ordinal));
        using var reader = new StreamReader(assembly.GetManifestResourceStream(name)!);
        // A "</script>" inside the library would end the tag early; plotly.min.js has none, but be safe.
        return reader.ReadToEnd().Replace("</script", "<\\/script", StringComparison.OrdinalIgnoreCase);
    });
}
