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

    /// <summary>
    /// Null when the build output belongs to the repository that holds <paramref name="folder"/> (or either lies outside any
    /// repository); otherwise a sentence saying whose build runs and how to use this checkout's.
    /// </summary>
    public static string? CheckoutNote(string folder)
    {
        string? mine = RepositoryOf(folder), built = RepositoryOf(Folder);
        return mine is null || built is null || string.Equals(mine, built, StringComparison.Ordinal) ? null
            : $"this session runs the VaeLab built in {built}, not this notebook's checkout {mine}: run `dotnet build -c Release` in {mine} to use its code (the last build installs the package)";
    }

    static string? RepositoryOf(string folder)
    {
        for (var directory = new DirectoryInfo(folder); directory is not null; directory = directory.Parent)
            if (Directory.Exists(Path.Combine(directory.FullName, ".git")) || File.Exists(Path.Combine(directory.FullName, ".git")))
                return directory.FullName;
        return null;
    }

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
