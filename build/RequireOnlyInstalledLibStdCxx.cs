// MSBuild task (compiled by RoslynCodeTaskFactory) that makes TorchSharp's native glue library load on
// systems whose libstdc++ is older than the one it was linked against.
//
// libLibTorchSharp.so (TorchSharp 0.107.0) was built with GCC 13 and so lists GLIBCXX_3.4.32 in its ELF
// version-needs table, for one symbol (std::ios_base_library_init) that <iostream> only references and
// never calls. Debian 12's libstdc++ stops at GLIBCXX_3.4.30, so the dynamic loader refuses the whole file.
// Rewriting that one requirement (name and hash) to GLIBCXX_3.4.30, which the same file already needs,
// makes it load; the symbol is never bound. The rewrite is done only when the system lacks 3.4.32, on a
// copy in the build output (temporary file, then rename), never on the NuGet cache.
#nullable enable
using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Runtime.InteropServices;
using System.IO;
using System.Text;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

public sealed class RequireOnlyInstalledLibStdCxx : Task
{
    const string Wanted = "GLIBCXX_3.4.32";
    const string Replacement = "GLIBCXX_3.4.30";
    const uint ShtGnuVerneed = 0x6ffffffe;

    /// <summary>The native libraries to inspect (typically the build output's libLibTorchSharp.so).</summary>
    [Required]
    public ITaskItem[] Files { get; set; } = Array.Empty<ITaskItem>();

    public override bool Execute()
    {
        if (!RuntimeInformation.IsOSPlatform(OSPlatform.Linux)) return true;
        string? libstdcxx = FindSystemLibStdCxx();
        if (libstdcxx != null && Contains(File.ReadAllBytes(libstdcxx), Encoding.ASCII.GetBytes(Wanted + "\0")))
        {
            Log.LogMessage(MessageImportance.Low, $"{libstdcxx} provides {Wanted}: native libraries left untouched.");
            return true;
        }
        foreach (var item in Files)
        {
            string path = item.ItemSpec;
            if (!File.Exists(path)) continue;
            byte[] elf = File.ReadAllBytes(path);
            string? problem = TryRewrite(elf, out bool changed);
            if (problem != null)
            {
                Log.LogWarning($"{path}: cannot rewrite its {Wanted} requirement: {problem}");
                continue;
            }
            if (!changed) continue;
            string temporary = path + ".vaelab-tmp";
            File.WriteAllBytes(temporary, elf);
            // Rename over the output copy: a hard link into the NuGet cache is replaced, not written through.
            // (netstandard has no File.Move overwrite: Replace is the atomic rename.)
            File.Replace(temporary, path, null);
            Log.LogMessage(MessageImportance.High,
                $"VaeLab: {Path.GetFileName(path)} now requires {Replacement} instead of {Wanted} " +
                $"(system libstdc++ {libstdcxx ?? "not found"} lacks {Wanted}).");
        }
        return !Log.HasLoggedErrors;
    }

    static string? FindSystemLibStdCxx()
    {
        foreach (string ldconfig in new[] { "/sbin/ldconfig", "/usr/sbin/ldconfig" })
        {
            if (!File.Exists(ldconfig)) continue;
            try
            {
                var info = new ProcessStartInfo(ldconfig, "-p") { RedirectStandardOutput = true, UseShellExecute = false };
                using var process = Process.Start(info)!;
                string output = process.StandardOutput.ReadToEnd();
                process.WaitForExit();
                foreach (string line in output.Split('\n'))
                {
                    int arrow = line.IndexOf("=>", StringComparison.Ordinal);
                    if (line.TrimStart().StartsWith("libstdc++.so.6 ", StringComparison.Ordinal) && arrow > 0)
                    {
                        string candidate = line.Substring(arrow + 2).Trim();
                        if (File.Exists(candidate)) return candidate;
                    }
                }
            }
            catch (Exception) { /* fall through to the usual places */ }
        }
        foreach (string dir in new[] { "/usr/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu", "/usr/lib64", "/usr/lib", "/lib64", "/lib" })
        {
            string candidate = Path.Combine(dir, "libstdc++.so.6");
            if (File.Exists(candidate)) return candidate;
        }
        return null;
    }

    /// <summary>Rewrites the GLIBCXX_3.4.32 version-need entry of a 64-bit little-endian ELF in place.
    /// Returns null on success (changed says whether anything was rewritten), or why it could not.</summary>
    static string? TryRewrite(byte[] elf, out bool changed)
    {
        changed = false;
        if (elf.Length < 64 || elf[0] != 0x7f || elf[1] != (byte)'E' || elf[2] != (byte)'L' || elf[3] != (byte)'F')
            return "not an ELF file";
        if (elf[4] != 2 || elf[5] != 1) return "not a 64-bit little-endian ELF file";
        ulong shoff = U64(elf, 0x28);
        int shentsize = U16(elf, 0x3A), shnum = U16(elf, 0x3C);
        for (int i = 0; i < shnum; i++)
        {
            int sh = checked((int)shoff + i * shentsize);
            if (U32(elf, sh + 4) != ShtGnuVerneed) continue;
            int verneed = checked((int)U64(elf, sh + 0x18));
            int link = (int)U32(elf, sh + 0x28);
            int strtab = checked((int)U64(elf, checked((int)shoff + link * shentsize) + 0x18));
            var entries = new List<(int Offset, string Name)>();
            int need = verneed;
            while (true)
            {
                int count = U16(elf, need + 2);
                int aux = need + (int)U32(elf, need + 8);
                for (int k = 0; k < count; k++)
                {
                    entries.Add((aux, CString(elf, strtab + (int)U32(elf, aux + 8))));
                    uint nextAux = U32(elf, aux + 12);
                    if (nextAux == 0) break;
                    aux += (int)nextAux;
                }
                uint next = U32(elf, need + 12);
                if (next == 0) break;
                need += (int)next;
            }
            var wanted = entries.Find(e => e.Name == Wanted);
            if (wanted.Name == null) return null;
            var replacement = entries.Find(e => e.Name == Replacement);
            if (replacement.Name == null) return $"it does not already require {Replacement}";
            WriteU32(elf, wanted.Offset, U32(elf, replacement.Offset));         // vna_hash
            WriteU32(elf, wanted.Offset + 8, U32(elf, replacement.Offset + 8)); // vna_name
            changed = true;
            return null;
        }
        return null;
    }

    static bool Contains(byte[] haystack, byte[] needle)
    {
        for (int i = Array.IndexOf(haystack, needle[0]); i >= 0 && i <= haystack.Length - needle.Length; i = Array.IndexOf(haystack, needle[0], i + 1))
        {
            int k = 1;
            while (k < needle.Length && haystack[i + k] == needle[k]) k++;
            if (k == needle.Length) return true;
        }
        return false;
    }
    static ushort U16(byte[] b, int o) => BitConverter.ToUInt16(b, o);
    static uint U32(byte[] b, int o) => BitConverter.ToUInt32(b, o);
    static ulong U64(byte[] b, int o) => BitConverter.ToUInt64(b, o);
    static void WriteU32(byte[] b, int o, uint v) => BitConverter.GetBytes(v).CopyTo(b, o);
    static string CString(byte[] b, int o) { int end = Array.IndexOf(b, (byte)0, o); return Encoding.ASCII.GetString(b, o, end - o); }
}
