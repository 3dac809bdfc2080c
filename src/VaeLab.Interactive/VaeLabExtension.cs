using Microsoft.DotNet.Interactive;
using Microsoft.DotNet.Interactive.Formatting;

namespace VaeLab.Interactive;

/// <summary>
/// The kernel extension's entry point, called by the package's <c>extension.dib</c> when a notebook runs
/// <c>#r "nuget:VaeLab.Interactive, …"</c>: Plotly.NET on the kernel's FSharp.Core, then VaeLab's formatters.
/// </summary>
public static class VaeLabExtension
{
    static int loaded;

    /// <summary>Registers VaeLab's formatters with the kernel (once per kernel process).</summary>
    public static void Load(Kernel kernel)
    {
        ArgumentNullException.ThrowIfNull(kernel);
        // Before any Plotly.NET type is touched: charts need the kernel's FSharp.Core, not a second copy.
        VaeLab.Plotting.NotebookSupport.UseHostFSharpCore();
        if (Interlocked.Exchange(ref loaded, 1) != 0) return;
        VaeLabFormatters.Register();
    }
}
