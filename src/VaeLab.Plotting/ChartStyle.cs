using Plotly.NET;

namespace VaeLab.Plotting;

/// <summary>Small C# helpers over Plotly.NET's curried F# functions.</summary>
internal static class ChartStyle
{
    public static GenericChart WithTitle(this GenericChart chart, string title) =>
        Plotly.NET.Chart.withTitle(title, null).Invoke(chart);
}
