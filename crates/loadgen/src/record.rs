//! A load's measurements as records of the one results schema, shared by
//! `kvbench load --results` and `kvbench bench macro`.

use kvbench_harness::latency;
use kvbench_results::{DatasetInfo, LoadInfo, Metric, Record, RunInfo, Workload};

use crate::run::LoadReport;
use crate::sampler::Resources;

/// What was loaded, as the records name it.
#[derive(Clone, Debug)]
pub struct Subject {
    /// The server: a strategy's name, `redis-server`, `python-dict`, or a user's label (a plain case).
    pub strategy: String,
    /// The data it served.
    pub dataset: DatasetInfo,
    /// The keys asked for.
    pub workload: Workload,
    /// Protocol, connections, threads, rate, client.
    pub load: LoadInfo,
}

impl Subject {
    /// Records of `values` measured on this subject.
    pub fn records(&self, values: impl IntoIterator<Item = (Metric, f64)>, run: &RunInfo) -> Vec<Record> {
        values
            .into_iter()
            .map(|(metric, value)| {
                Record::new(&self.strategy, &self.dataset, Some(self.workload), metric, value, run)
                    .with_load(self.load.clone())
            })
            .collect()
    }
}

/// The records of one load: throughput, latency percentiles (the p50 record
/// carrying the whole distribution), errors, the load generator's CPU, and
/// the server's CPU and peak RSS when it was sampled.
pub fn records(report: &LoadReport, used: Option<&Resources>, subject: &Subject, run: &RunInfo) -> Vec<Record> {
    let p = report.percentiles();
    let mut values = vec![
        (Metric::Throughput, report.throughput()),
        (Metric::LatencyP50, p.p50),
        (Metric::LatencyP90, p.p90),
        (Metric::LatencyP99, p.p99),
        (Metric::LatencyP999, p.p999),
        (Metric::LatencyMax, p.max),
        (Metric::Errors, report.errors.total() as f64),
        (Metric::ClientCpu, report.client_cpu_percent()),
    ];
    if let Some(used) = used {
        values.push((Metric::ServerCpu, used.user_percent + used.system_percent));
        values.push((Metric::ServerRss, used.rss_max as f64));
    }
    let histogram = latency::buckets(&report.latency);
    subject
        .records(values, run)
        .into_iter()
        .map(|r| if r.metric == Metric::LatencyP50 { r.with_histogram(histogram.clone()) } else { r })
        .collect()
}
