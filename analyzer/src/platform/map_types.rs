//! `enum bpf_map_type` of Linux 6.18 (`include/uapi/linux/bpf.h`), named as
//! libbpf's `map_type_name[]` (and therefore bpftool) prints them.

uapi_enum! {
    /// A BPF map type (`enum bpf_map_type`).
    pub enum MapType, prefix "BPF_MAP_TYPE_" {
        Unspec = 0 => "unspec",
        Hash = 1 => "hash",
        Array = 2 => "array",
        ProgArray = 3 => "prog_array",
        PerfEventArray = 4 => "perf_event_array",
        PercpuHash = 5 => "percpu_hash",
        PercpuArray = 6 => "percpu_array",
        StackTrace = 7 => "stack_trace",
        CgroupArray = 8 => "cgroup_array",
        LruHash = 9 => "lru_hash",
        LruPercpuHash = 10 => "lru_percpu_hash",
        LpmTrie = 11 => "lpm_trie",
        ArrayOfMaps = 12 => "array_of_maps",
        HashOfMaps = 13 => "hash_of_maps",
        Devmap = 14 => "devmap",
        Sockmap = 15 => "sockmap",
        Cpumap = 16 => "cpumap",
        Xskmap = 17 => "xskmap",
        Sockhash = 18 => "sockhash",
        CgroupStorage = 19 => "cgroup_storage",
        ReuseportSockarray = 20 => "reuseport_sockarray",
        PercpuCgroupStorage = 21 => "percpu_cgroup_storage",
        Queue = 22 => "queue",
        Stack = 23 => "stack",
        SkStorage = 24 => "sk_storage",
        DevmapHash = 25 => "devmap_hash",
        StructOps = 26 => "struct_ops",
        Ringbuf = 27 => "ringbuf",
        InodeStorage = 28 => "inode_storage",
        TaskStorage = 29 => "task_storage",
        BloomFilter = 30 => "bloom_filter",
        UserRingbuf = 31 => "user_ringbuf",
        CgrpStorage = 32 => "cgrp_storage",
        Arena = 33 => "arena",
    }
}

impl MapType {
    /// Like [`MapType::from_name`], also accepting the uapi aliases
    /// `cgroup_storage_deprecated` and `percpu_cgroup_storage_deprecated`.
    pub fn from_name_or_alias(name: &str) -> Option<MapType> {
        if let Some(t) = MapType::from_name(name) {
            return Some(t);
        }
        let lower = name.to_ascii_lowercase();
        let bare = lower.strip_prefix("bpf_map_type_").unwrap_or(&lower);
        match bare {
            "cgroup_storage_deprecated" => Some(MapType::CgroupStorage),
            "percpu_cgroup_storage_deprecated" => Some(MapType::PercpuCgroupStorage),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn map_type_values_are_dense_and_complete() {
        // include/uapi/linux/bpf.h (6.18): UNSPEC = 0 .. ARENA = 33.
        assert_eq!(MapType::all().len(), 34);
        for (i, t) in MapType::all().iter().enumerate() {
            assert_eq!(t.as_u32() as usize, i);
            assert_eq!(MapType::from_u32(i as u32), Some(*t));
            assert_eq!(MapType::from_name(t.name()), Some(*t));
        }
        assert_eq!(MapType::from_u32(34), None);
    }

    #[test]
    fn map_type_known_values() {
        assert_eq!(MapType::Hash as u32, 1);
        assert_eq!(MapType::ProgArray as u32, 3);
        assert_eq!(MapType::Sockhash as u32, 18);
        assert_eq!(MapType::DevmapHash as u32, 25);
        assert_eq!(MapType::Ringbuf as u32, 27);
        assert_eq!(MapType::Arena as u32, 33);
        assert_eq!(MapType::from_name("lpm_trie"), Some(MapType::LpmTrie));
        assert_eq!(
            MapType::from_name("BPF_MAP_TYPE_PERF_EVENT_ARRAY"),
            Some(MapType::PerfEventArray)
        );
        assert_eq!(
            MapType::from_name_or_alias("BPF_MAP_TYPE_CGROUP_STORAGE_DEPRECATED"),
            Some(MapType::CgroupStorage)
        );
        assert_eq!(MapType::from_name("cgroup_storage_deprecated"), None);
        assert_eq!(MapType::CgrpStorage.c_name(), "BPF_MAP_TYPE_CGRP_STORAGE");
        assert_eq!(MapType::UserRingbuf.to_string(), "user_ringbuf");
    }
}
