using System.Diagnostics;
using System.Text;

namespace VaeLab.Tests.Runtime;

/// <summary>The build's rewrite of libLibTorchSharp.so (build/RequireOnlyInstalledLibStdCxx.cs).</summary>
public class NativeLibraryFixTests
{
    static string OutputGlue => Path.Combine(AppContext.BaseDirectory, "libLibTorchSharp.so");

    static bool SystemHasGlibcxx32()
    {
        string[] candidates = ["/usr/lib/x86_64-linux-gnu/libstdc++.so.6", "/lib/x86_64-linux-gnu/libstdc++.so.6", "/usr/lib/aarch64-linux-gnu/libstdc++.so.6", "/usr/lib64/libstdc++.so.6"];
        string? found = candidates.FirstOrDefault(File.Exists);
        Assert.NotNull(found);
        return Encoding.ASCII.GetString(File.ReadAllBytes(found)).Contains("GLIBCXX_3.4.32\0", StringComparison.Ordinal);
    }

    static string VersionNeeds(string path)
    {
        var start = new ProcessStartInfo("readelf", ["-V", "-W", path]) { RedirectStandardOutput = true };
        using var process = Process.Start(start)!;
        string text = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        Assert.Equal(0, process.ExitCode);
        int needs = text.IndexOf("Version needs section", StringComparison.Ordinal);
        Assert.True(needs >= 0, "readelf printed no version-needs section");
        return text[needs..];
    }

    [Fact]
    public void OutputCopyRequiresOnlyVersionsTheSystemLibStdCxxProvides()
    {
        if (!OperatingSystem.IsLinux()) return; // the rewrite exists only for Linux
        Assert.True(File.Exists(OutputGlue), $"{OutputGlue} is missing: the natives must be flat in the build output");
        string needs = VersionNeeds(OutputGlue);
        Assert.Contains("GLIBCXX_3.4.30", needs);
        if (SystemHasGlibcxx32())
            Assert.Contains("GLIBCXX_3.4.32", needs);       // newer systems: the file is left as shipped
        else
            Assert.DoesNotContain("GLIBCXX_3.4.32", needs); // Debian 12 and the like: the one requirement is rewritten
    }
}
