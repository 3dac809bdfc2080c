using System.Globalization;

namespace VaeLab.Benchmarks;

/// <summary>
/// How much of the machine's CPU time went to something other than this process between two readings: other processes
/// (a build server, a second torch job) and, in a virtual machine, time the hypervisor gave to other guests (steal). Read
/// from /proc/stat and /proc/self/stat; NaN where those do not exist.
/// </summary>
public readonly record struct CpuShare(double TotalTicks, double BusyTicks, double StealTicks, double OwnTicks)
{
    /// <summary>A reading now.</summary>
    public static CpuShare Read()
    {
        try
        {
            string[] cpu = File.ReadLines("/proc/stat").First().Split(' ', StringSplitOptions.RemoveEmptyEntries);
            double[] v = cpu.Skip(1).Select(s => double.Parse(s, CultureInfo.InvariantCulture)).ToArray();
            // user nice system idle iowait irq softirq steal …
            double idle = v[3] + v[4], steal = v.Length > 7 ? v[7] : 0;
            double total = v.Take(Math.Min(v.Length, 8)).Sum();
            string self = File.ReadAllText("/proc/self/stat");
            string[] fields = self[(self.LastIndexOf(')') + 2)..].Split(' ');
            double own = double.Parse(fields[11], CultureInfo.InvariantCulture) + double.Parse(fields[12], CultureInfo.InvariantCulture);
            return new CpuShare(total, total - idle - steal, steal, own);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException)
        {
            return new CpuShare(double.NaN, double.NaN, double.NaN, double.NaN);
        }
    }

    /// <summary>The fraction of all CPU time since <paramref name="earlier"/> that other processes used (busy, not this process).</summary>
    public double OthersSince(CpuShare earlier)
    {
        double total = TotalTicks - earlier.TotalTicks;
        return total > 0 ? Math.Max(0, (BusyTicks - earlier.BusyTicks) - (OwnTicks - earlier.OwnTicks)) / total : double.NaN;
    }

    /// <summary>The fraction of all CPU time since <paramref name="earlier"/> that the hypervisor gave to other guests.</summary>
    public double StealSince(CpuShare earlier)
    {
        double total = TotalTicks - earlier.TotalTicks;
        return total > 0 ? (StealTicks - earlier.StealTicks) / total : double.NaN;
    }
}
