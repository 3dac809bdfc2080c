using System.Reflection;
using System.Runtime.Loader;

namespace VaeLab.Interactive;

/// <summary>
/// The VaeLab build output this package was packed from (it holds VaeLab.Core, VaeLab.Plotting, TorchSharp with the
/// patched natives, and no FSharp.Core). The package's extension script #r's it after the first cell; until then this
/// resolver lets <see cref="Notebook.Prepare"/> in that same cell find VaeLab's assemblies.
/// </summary>
static class BuildOutput
{
    static int registered;

    /// <summary>The folder, as written into this assembly by the build.</summary>
    public static string Folder { get; } =
        typeof(BuildOutput).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().FirstOrDefault(a => a.Key == "VaeLabBuildOutput")?.Value
        ?? throw new InvalidOperationException("VaeLab.Interactive was built without its VaeLabBuildOutput metadata.");

    /// <summary>Resolves VaeLab's own assemblies and their dependencies from <see cref="Folder"/> (never FSharp.Core: the kernel's copy serves).</summary>
    public static void MakeResolvable()
    {
        if (!Directory.Exists(Folder))
            throw new DirectoryNotFoundException($"The VaeLab build output '{Folder}' that this package was packed from is gone: build VaeLab again (dotnet build -c Release).");
        if (Interlocked.Exchange(ref registered, 1) != 0) return;
        AssemblyLoadContext.Default.Resolving += (context, name) =>
        {
            if (name.Name is null or "FSharp.Core") return null;
            string candidate = Path.Combine(Folder, name.Name + ".dll");
            return File.Exists(candidate) ? context.LoadFromAssemblyPath(candidate) : null;
        };
    }
}
