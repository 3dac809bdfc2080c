namespace VaeLab.Tests;

/// <summary>Where the repository and its build outputs are, seen from the test assembly.</summary>
public static class RepositoryPaths
{
    /// <summary>The folder holding VaeLab.sln.</summary>
    public static string Root { get; } = FindRoot();

    /// <summary>The build configuration the tests were built with (Release or Debug).</summary>
    public static string Configuration { get; } =
        AppContext.BaseDirectory.Split(Path.DirectorySeparatorChar).Contains("Debug") ? "Debug" : "Release";

    /// <summary>The library's build output, the folder a notebook #r's.</summary>
    public static string LibraryOutput => Path.Combine(Root, "src", "VaeLab", "bin", Configuration, "net10.0");

    /// <summary>The plotting library's build output: the folder a notebook #r's for charts (no FSharp.Core of its own).</summary>
    public static string PlottingOutput => Path.Combine(Root, "src", "VaeLab.Plotting", "bin", Configuration, "net10.0");

    static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "VaeLab.sln"))) return dir.FullName;
        throw new InvalidOperationException($"No VaeLab.sln above {AppContext.BaseDirectory}.");
    }
}
